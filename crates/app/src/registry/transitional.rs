// transitional: hands the registry use cases to the `Store` methods other duties' code still
// calls (`store.create_household`, `add_member`, `add_income`, `seed_demo_registry`; see the
// store's `registry/transitional.rs`). Remove with those methods.

use minzheng_domain::registry::{HouseholdDetail, IncomeInput, NewHousehold, PersonInput};
use minzheng_domain::Actor;
use minzheng_store::{RegistryUseCases, Store, StoreError, UseCaseFuture};

use crate::{App, Error};

fn to_store(e: Error) -> StoreError {
    match e {
        Error::NotFound(w) => StoreError::NotFound(w),
        Error::Forbidden(m) => StoreError::Forbidden(m),
        Error::Validation { message, fields } => StoreError::Validation { message, fields },
        Error::Conflict(m) => StoreError::Conflict(m),
        Error::Database(d) | Error::Internal(d) => StoreError::Internal(d),
    }
}

struct UseCases;

impl RegistryUseCases for UseCases {
    fn create_household<'a>(
        &'a self,
        store: &'a Store,
        actor: &'a Actor,
        input: &'a NewHousehold,
    ) -> UseCaseFuture<'a, HouseholdDetail> {
        Box::pin(async move {
            let app = App::from_store(store.clone());
            app.registry().create(actor, input).await.map_err(to_store)
        })
    }

    fn add_member<'a>(
        &'a self,
        store: &'a Store,
        actor: &'a Actor,
        household_id: i64,
        input: &'a PersonInput,
    ) -> UseCaseFuture<'a, HouseholdDetail> {
        Box::pin(async move {
            let app = App::from_store(store.clone());
            app.registry()
                .add_member(actor, household_id, input)
                .await
                .map_err(to_store)
        })
    }

    fn add_income<'a>(
        &'a self,
        store: &'a Store,
        actor: &'a Actor,
        household_id: i64,
        input: &'a IncomeInput,
    ) -> UseCaseFuture<'a, HouseholdDetail> {
        Box::pin(async move {
            let app = App::from_store(store.clone());
            app.registry()
                .add_income(actor, household_id, input)
                .await
                .map_err(to_store)
        })
    }

    fn seed_demo_registry<'a>(
        &'a self,
        store: &'a Store,
        households: usize,
        seed: u64,
    ) -> UseCaseFuture<'a, usize> {
        Box::pin(async move {
            let app = App::from_store(store.clone());
            app.demo()
                .registry(households, seed)
                .await
                .map_err(to_store)
        })
    }
}

/// Registers the use cases with the store (once per process).
pub(crate) fn register() {
    minzheng_store::register_registry_use_cases(Box::new(UseCases));
}

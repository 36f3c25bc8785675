//! minzheng-web — the HTTP face of minzheng: handlers parse the request, call a use case
//! of `minzheng-app` with the signed-in actor, and render; they decide nothing themselves.
//!
//! Owns: the axum router, server-rendered Chinese pages (askama, htmx), the JSON API under
//! `/api/v1` with its OpenAPI document, sessions, CSRF protection and security headers.
//! Must never: write SQL, keep a list of roles (pages ask `actor.may(Permission::…)`),
//! or reach the store other than through a use case.

pub mod api;
pub mod cases;
pub mod checks;
pub mod error;
pub mod forms;
pub mod funerals;
pub mod lists;
pub mod notices;
pub mod openapi;
pub mod pages;
pub mod payroll;
pub mod places;
pub mod registry;
pub mod registry_corrections;
pub mod relatives;
pub mod repricing;
pub mod session;
pub mod standards;
pub mod stats;
#[cfg(feature = "testing")]
pub mod testing;
pub mod whatif;

use std::net::SocketAddr;

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::{get, patch, post};
use axum::Router;
use minzheng_app::App;

/// Web settings.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Sign a session out after this long without a request.
    pub idle_timeout: chrono::Duration,
    /// Mark cookies `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// Largest photo upload, in bytes.
    pub attachment_limit: usize,
    /// Served only through a reverse proxy: the client's address (for sign-in throttling)
    /// is the last `X-Forwarded-For` entry, the one the proxy added.
    pub behind_proxy: bool,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            idle_timeout: chrono::Duration::minutes(30),
            secure_cookies: false,
            attachment_limit: minzheng_domain::attachments::DEFAULT_ATTACHMENT_LIMIT,
            behind_proxy: false,
        }
    }
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    /// The use cases.
    pub app: App,
    pub config: WebConfig,
    /// The one-time keys of page forms already accepted (see [`forms::OnceKeys`]).
    pub once: std::sync::Arc<forms::OnceKeys>,
}

impl AppState {
    pub fn new(app: App, config: WebConfig) -> Self {
        AppState {
            app,
            config,
            once: Default::default(),
        }
    }
}

const HTMX: &str = include_str!("../static/htmx.min.js");
const FORMS_JS: &str = include_str!("../static/forms.js");
const LAYOUT_JS: &str = include_str!("../static/layout.js");
const CSS: &str = include_str!("../static/app.css");
const STANDARDS_CSS: &str = include_str!("../static/standards.css");
const CASES_CSS: &str = include_str!("../static/cases.css");

fn asset(body: &'static str, mime: &'static str) -> axum::response::Response {
    (
        [
            (CONTENT_TYPE, mime),
            (CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
        .into_response()
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/session", post(api::sign_in).delete(api::sign_out))
        .route("/me", get(api::me))
        .route("/codes", get(api::codes))
        .route("/dashboard", get(api::dashboard))
        .route("/todo", get(api::todo))
        .route("/divisions", get(api::divisions))
        .route("/divisions/stats", get(api::division_stats))
        .route("/divisions/{code}", get(api::division))
        .route("/divisions/{code}/children", get(api::division_children))
        .route("/offices", get(api::offices))
        .route(
            "/offices/{code}",
            get(api::office).patch(api::office_update),
        )
        .route("/users", get(api::users).post(api::user_create))
        .route("/users/{id}", get(api::user).patch(api::user_update))
        .route("/audit", get(api::audit))
        .route("/audit/export", get(api::audit_export))
        .route(
            "/households",
            get(registry::api_list).post(registry::api_create),
        )
        .route(
            "/households/{household_id}",
            get(registry::api_get).patch(registry::api_update),
        )
        .route(
            "/households/{household_id}/history",
            get(registry::api_history),
        )
        .route(
            "/households/{household_id}/members",
            post(registry::api_add_member),
        )
        .route(
            "/households/{household_id}/incomes",
            post(registry::api_add_income),
        )
        .route(
            "/households/{household_id}/assets",
            post(registry::api_add_asset),
        )
        .route(
            "/households/{household_id}/members/{person_id}",
            axum::routing::patch(registry_corrections::api_update_member)
                .delete(registry_corrections::api_remove_member),
        )
        .route(
            "/households/{household_id}/incomes/{income_id}",
            axum::routing::patch(registry_corrections::api_update_income)
                .delete(registry_corrections::api_remove_income),
        )
        .route(
            "/households/{household_id}/assets/{asset_id}",
            axum::routing::patch(registry_corrections::api_update_asset)
                .delete(registry_corrections::api_remove_asset),
        )
        .route("/persons", get(registry::api_search))
        .route(
            "/persons/{person_id}",
            axum::routing::patch(registry::api_update_person),
        )
        .route(
            "/imports/households",
            post(registry::api_import)
                .layer(axum::extract::DefaultBodyLimit::max(session::UPLOAD_LIMIT)),
        )
        .route("/jobs", get(registry::api_jobs))
        .route("/jobs/{job_id}", get(registry::api_job))
        .merge(standards_api())
        .merge(cases::api_routes(state.config.attachment_limit))
        .merge(payroll::api())
        .merge(funerals::api())
        .merge(relatives::api())
        .merge(lists::api())
        .merge(repricing::api())
        .merge(whatif::api())
        .merge(checks::api())
        .merge(stats::api())
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed);
    Router::new()
        .route("/", get(pages::dashboard))
        .route("/login", get(pages::login_page).post(pages::login_submit))
        .route("/logout", post(pages::logout))
        .route("/divisions", get(pages::divisions))
        .route("/places", get(places::options))
        .route("/offices", get(pages::offices))
        .route(
            "/offices/{code}",
            get(pages::office).post(pages::office_update),
        )
        .route("/users", get(pages::users).post(pages::user_create))
        .route("/users/{id}", get(pages::user).post(pages::user_update))
        .route("/audit", get(pages::audit))
        .route("/audit.xlsx", get(pages::audit_export))
        .route(
            "/account/password",
            get(pages::password_page).post(pages::password_submit),
        )
        .route(
            "/households",
            get(registry::list_page).post(registry::create_submit),
        )
        .route("/households/new", get(registry::new_page))
        .route("/households/export.xlsx", get(registry::export_download))
        .route(
            "/households/{id}",
            get(registry::household).post(registry::update_submit),
        )
        .route("/households/{id}/members", post(registry::member_submit))
        .route("/households/{id}/incomes", post(registry::income_submit))
        .route("/households/{id}/assets", post(registry::asset_submit))
        .route(
            "/persons/{id}",
            get(registry::person_page).post(registry::person_submit),
        )
        .route(
            "/households/{hid}/members/{id}",
            post(registry_corrections::member_update_submit),
        )
        .route(
            "/households/{hid}/members/{id}/edit",
            get(registry_corrections::member_edit_page),
        )
        .route(
            "/households/{hid}/members/{id}/delete",
            get(registry_corrections::member_remove_page)
                .post(registry_corrections::member_remove_submit),
        )
        .route(
            "/households/{hid}/incomes/{id}",
            post(registry_corrections::income_update_submit),
        )
        .route(
            "/households/{hid}/incomes/{id}/edit",
            get(registry_corrections::income_edit_page),
        )
        .route(
            "/households/{hid}/incomes/{id}/delete",
            get(registry_corrections::income_remove_page)
                .post(registry_corrections::income_remove_submit),
        )
        .route(
            "/households/{hid}/assets/{id}",
            post(registry_corrections::asset_update_submit),
        )
        .route(
            "/households/{hid}/assets/{id}/edit",
            get(registry_corrections::asset_edit_page),
        )
        .route(
            "/households/{hid}/assets/{id}/delete",
            get(registry_corrections::asset_remove_page)
                .post(registry_corrections::asset_remove_submit),
        )
        .route(
            "/registry/import",
            get(registry::import_page)
                .post(registry::import_submit)
                .layer(axum::extract::DefaultBodyLimit::max(session::UPLOAD_LIMIT)),
        )
        .route("/registry/template.xlsx", get(registry::template_download))
        .route("/jobs/{id}", get(registry::job_page))
        .route("/jobs/{id}/report.xlsx", get(registry::job_report))
        .merge(standards_pages(state.config.attachment_limit))
        .merge(cases::page_routes(state.config.attachment_limit))
        .merge(payroll::pages())
        .merge(funerals::pages())
        .merge(relatives::pages())
        .merge(lists::pages())
        .merge(repricing::pages())
        .merge(whatif::pages())
        .merge(checks::pages())
        .merge(stats::pages())
        .route("/healthz", get(api::healthz))
        .route(
            "/api/openapi.json",
            get(|| async { axum::Json(openapi::document()) }),
        )
        .route(
            "/static/htmx.min.js",
            get(|| async { asset(HTMX, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/static/forms.js",
            get(|| async { asset(FORMS_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/static/layout.js",
            get(|| async { asset(LAYOUT_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/static/app.css",
            get(|| async { asset(CSS, "text/css; charset=utf-8") }),
        )
        .route(
            "/static/standards.css",
            get(|| async { asset(STANDARDS_CSS, "text/css; charset=utf-8") }),
        )
        .route(
            "/static/cases.css",
            get(|| async { asset(CASES_CSS, "text/css; charset=utf-8") }),
        )
        .nest("/api/v1", api)
        .fallback(pages::not_found)
        .method_not_allowed_fallback(pages::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::session_layer,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(session::BODY_LIMIT))
        .with_state(state)
}

/// Office standardization pages; photo uploads get their own body limit (the configured
/// photo size plus room for the form), the rest keep the global one.
fn standards_pages(photo_limit: usize) -> Router<AppState> {
    use crate::standards as s;
    let upload = axum::extract::DefaultBodyLimit::max(photo_limit + 256 * 1024);
    Router::new()
        .route("/standards", get(s::console).post(s::console_post))
        .route("/standards/export.xlsx", get(s::export))
        .route(
            "/standards/offices/{code}",
            get(s::office).post(s::office_post),
        )
        .route(
            "/standards/offices/{code}/photos",
            post(s::office_photo).layer(upload),
        )
        .route(
            "/standards/inspections/{id}",
            get(s::inspection).post(s::inspection_post),
        )
        .route(
            "/standards/inspections/{id}/photos",
            post(s::inspection_photo).layer(upload),
        )
        .route("/standards/subsidies", get(s::subsidies))
        .route("/standards/subsidies/{id}", post(s::subsidy_post))
        .route("/standards/attachments/{id}", get(s::attachment))
}

/// Office standardization API under `/api/v1/standards`.
fn standards_api() -> Router<AppState> {
    use crate::standards as s;
    Router::new()
        .route("/standards/rules", get(s::api_rules))
        .route("/standards/offices", get(s::api_overview))
        .route("/standards/offices/{code}", get(s::api_office))
        .route("/standards/offices/{code}/profile", patch(s::api_profile))
        .route("/standards/offices/{code}/rooms", post(s::api_room))
        .route(
            "/standards/offices/{code}/equipment",
            post(s::api_equipment),
        )
        .route(
            "/standards/offices/{code}/posted-rules",
            post(s::api_posted_rule),
        )
        .route(
            "/standards/offices/{code}/investments",
            post(s::api_investment),
        )
        .route("/standards/offices/{code}/plan", post(s::api_plan))
        .route(
            "/standards/offices/{code}/plan/review",
            post(s::api_plan_review),
        )
        .route(
            "/standards/offices/{code}/staff-changes",
            post(s::api_file_change),
        )
        .route(
            "/standards/offices/{code}/inspections",
            post(s::api_open_inspection),
        )
        .route("/standards/staff-changes", get(s::api_changes))
        .route(
            "/standards/staff-changes/{id}/decision",
            post(s::api_decide_change),
        )
        .route("/standards/inspections/{id}", get(s::api_inspection))
        .route("/standards/inspections/{id}/scores", post(s::api_score))
        .route(
            "/standards/inspections/{id}/rectifications",
            post(s::api_rectification),
        )
        .route(
            "/standards/inspections/{id}/decision",
            post(s::api_decide_inspection),
        )
        .route("/standards/subsidies", get(s::api_subsidies))
        .route(
            "/standards/subsidies/{id}/disbursement",
            post(s::api_disburse),
        )
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

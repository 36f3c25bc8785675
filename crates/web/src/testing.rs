//! Test support: the real server on port 0 over a fresh database seeded with the demo city.

use minzheng_app::testing::TestDb;

use crate::{AppState, WebConfig};

/// A running server.
pub struct TestApp {
    pub base: String,
    pub db: TestDb,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

impl TestApp {
    /// Starts the server on 127.0.0.1:0 over `db`, seeded with the demo city and accounts.
    pub async fn start(db: TestDb) -> TestApp {
        Self::start_with(db, WebConfig::default()).await
    }

    pub async fn start_with(db: TestDb, config: WebConfig) -> TestApp {
        db.app.demo().ensure().await.expect("seed demo");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind port 0");
        let addr = listener.local_addr().expect("local addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let state = AppState::new(db.app.clone(), config);
        let handle = tokio::spawn(async move {
            let _ = crate::serve(listener, state, async {
                let _ = rx.await;
            })
            .await;
        });
        TestApp {
            base: format!("http://{addr}"),
            db,
            shutdown: Some(tx),
            handle: Some(handle),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Stops the server and drops the database.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), h).await;
        }
        self.db.cleanup().await;
    }
}

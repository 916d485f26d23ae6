//! The HTTP server: state shared by handlers, the router, request logging and
//! graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{middleware, Json, Router};
use filiere_projections::Projector;
use filiere_store::workshop::Workshop;
use filiere_store::EventStore;
use serde_json::json;
use tokio::sync::watch;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::labels::TemplateCatalog;
use crate::retention::{run_retention, RETENTION_INTERVAL};
use crate::{api, auth, errors, pages};

/// Settings of `filiere serve`.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    /// Base URL printed in QR labels, such as `https://atelier.example.fr`.
    pub public_url: String,
    /// How often projections poll the log for events written by other
    /// processes.
    pub projection_interval: Duration,
    /// Days after which the retention sweep erases the identity of a
    /// household whose prescriptions are all closed.
    pub retention_days: u32,
    /// Whether this server runs the retention sweep. When false, an
    /// operator runs `filiere retention` from a scheduler.
    pub retention_sweep: bool,
}

/// State shared by every handler.
#[derive(Clone, Debug)]
pub struct AppState {
    pub workshop: Workshop,
    pub projector: Projector,
    pub public_url: String,
    /// Label templates offered for printing.
    pub labels: Arc<TemplateCatalog>,
    /// Workshop name printed on each label.
    pub workshop_name: String,
    wake_projector: watch::Sender<()>,
}

impl AppState {
    /// Builds the state over `store`, with the label templates of
    /// [`LABELS_DIR_VARIABLE`] (or `labels/` in the working directory, or the
    /// built-in ones) and the workshop name of [`WORKSHOP_NAME_VARIABLE`].
    ///
    /// Nothing runs the projector in the background: [`serve`] does that, and
    /// handlers catch projections up themselves after each write.
    pub fn new(store: EventStore, public_url: &str) -> AppState {
        let (wake_sender, _) = watch::channel(());
        AppState {
            workshop: Workshop::new(store.clone()),
            projector: Projector::new(store),
            public_url: public_url.trim_end_matches('/').to_string(),
            labels: Arc::new(load_label_templates()),
            workshop_name: std::env::var(WORKSHOP_NAME_VARIABLE)
                .unwrap_or_else(|_| DEFAULT_WORKSHOP_NAME.to_string()),
            wake_projector: wake_sender,
        }
    }

    pub fn store(&self) -> &EventStore {
        self.workshop.store()
    }

    /// Whether cookies get the Secure attribute: when the public URL is
    /// https, so that a browser never sends the session over plain HTTP.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// Asks the background projector to catch up now.
    pub fn wake_projector(&self) {
        self.wake_projector.send_replace(());
    }
}

/// Environment variable naming a folder of label templates, as for `filiere
/// labels`.
pub const LABELS_DIR_VARIABLE: &str = "FILIERE_LABELS_DIR";
/// Environment variable giving the workshop name printed on labels.
pub const WORKSHOP_NAME_VARIABLE: &str = "FILIERE_WORKSHOP_NAME";
const DEFAULT_WORKSHOP_NAME: &str = "Atelier Filière";

/// Largest request body accepted, in bytes. A donation batch of a few
/// thousand devices fits; anything larger is rejected with 413.
pub const BODY_LIMIT_BYTES: usize = 1024 * 1024;

fn load_label_templates() -> TemplateCatalog {
    let directory = std::env::var_os(LABELS_DIR_VARIABLE).map(std::path::PathBuf::from);
    match TemplateCatalog::load(directory.as_deref()) {
        Ok(catalog) => catalog,
        Err(error) => {
            tracing::error!(%error, "cannot load label templates; using the built-in ones");
            TemplateCatalog::builtin().unwrap_or_default()
        }
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Builds the router with its authentication, request-id and logging
/// layers. Serve it with connection info (as [`serve`] does), so that the
/// sign-in rate limit can count failures per client address.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .merge(auth::sign_in::routes())
        .merge(auth::setup::routes())
        .merge(pages::routes())
        .merge(api::routes())
        .fallback(errors::not_found)
        .method_not_allowed_fallback(errors::method_not_allowed)
        .with_state(state.clone())
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(middleware::from_fn_with_state(state, auth::authenticate))
        .layer(middleware::from_fn(errors::render_errors))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    let request_id = request
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    let route = request
                        .extensions()
                        .get::<axum::extract::MatchedPath>()
                        .map(|p| p.as_str().to_string())
                        .unwrap_or_else(|| "unmatched".to_string());
                    tracing::info_span!("request", request_id, method = %request.method(), route)
                })
                .on_response(
                    |response: &Response, latency: Duration, _span: &tracing::Span| {
                        tracing::info!(
                            status = response.status().as_u16(),
                            duration_ms = latency.as_secs_f64() * 1000.0,
                            "request finished"
                        );
                    },
                ),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.store().head().await {
        Ok((position, _)) => Json(json!({
            "status": "ok",
            "backend": state.store().backend().as_str(),
            "log_position": position,
        }))
        .into_response(),
        Err(error) => {
            tracing::error!(%error, "health check cannot read the log head");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "code": "database_unavailable"})),
            )
                .into_response()
        }
    }
}

/// Serves until Ctrl-C or SIGTERM, keeping projections caught up and,
/// unless disabled, running the retention sweep at start and every 24
/// hours meanwhile.
pub async fn serve(config: ServeConfig, store: EventStore) -> std::io::Result<()> {
    let projector = Projector::new(store.clone());
    if let Err(error) = projector.catch_up().await {
        tracing::error!(%error, "initial projection catch-up failed; the server retries in the background");
    }
    let (wake_sender, wake_receiver) = watch::channel(());
    let (shutdown_sender, shutdown_receiver) = watch::channel(false);
    let runner = tokio::spawn(projector.clone().run(
        config.projection_interval,
        wake_receiver,
        shutdown_receiver.clone(),
    ));
    let retention = if config.retention_sweep {
        Some(tokio::spawn(run_retention(
            Workshop::new(store.clone()),
            config.retention_days,
            RETENTION_INTERVAL,
            shutdown_receiver,
        )))
    } else {
        tracing::info!("retention sweep disabled in this server (--no-retention-sweep)");
        None
    };
    if let Err(error) = auth::setup::announce_setup_link(&store, &config.public_url).await {
        tracing::error!(%error, "cannot create the first-run setup link");
    }
    let mut state = AppState::new(store, &config.public_url);
    state.projector = projector;
    state.wake_projector = wake_sender;
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let address = listener.local_addr()?;
    tracing::info!(%address, public_url = %state.public_url, "server listening");
    println!("Filière écoute sur http://{address}");
    let service = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    shutdown_sender.send_replace(true);
    runner.await.ok();
    if let Some(retention) = retention {
        retention.await.ok();
    }
    tracing::info!("server stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.ok();
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}

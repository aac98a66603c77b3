//! `guildhall serve`: open the store, build the application, listen until told to stop.

use crate::api::{self, AppState};
use crate::clock::SystemClock;
use crate::config::ServeConfig;
use crate::secret::PasswordHasher;
use crate::service::Guildhall;
use anyhow::Context as _;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use secrecy::ExposeSecret as _;
use std::sync::{Arc, OnceLock};

/// The process-wide metrics registry (a recorder can be installed only once per process).
pub fn metrics_handle() -> anyhow::Result<PrometheusHandle> {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    if let Some(h) = HANDLE.get() {
        return Ok(h.clone());
    }
    // Buckets, not summaries: buckets add up across the `serve` processes of one service, and
    // folding samples into them is cheap.
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("http_request_duration_seconds".to_owned()),
            &[
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ],
        )
        .context("configuring the metrics buckets")?
        .build_recorder();
    let handle = recorder.handle();
    if HANDLE.set(handle.clone()).is_ok() {
        metrics::set_global_recorder(recorder).context("installing the metrics recorder")?;
        // Histograms keep raw samples until upkeep folds them in; without it a server nobody
        // scrapes would grow without bound. On its own thread, every second: folding a busy
        // server's samples on a runtime worker stalled the requests queued behind it.
        let upkeep = handle.clone();
        std::thread::Builder::new()
            .name("metrics-upkeep".to_owned())
            .spawn(move || {
                loop {
                    std::thread::sleep(std::time::Duration::from_secs(1));
                    upkeep.run_upkeep();
                }
            })
            .context("starting the metrics upkeep thread")?;
    }
    Ok(HANDLE.get().cloned().unwrap_or(handle))
}

/// Builds the application state for `config`: opens (and migrates) the store.
pub async fn build(config: &ServeConfig) -> anyhow::Result<AppState> {
    build_with_clock(config, Arc::new(SystemClock)).await
}

/// `build`, with the clock the domain reads (tests pass one they can move).
pub async fn build_with_clock(
    config: &ServeConfig,
    clock: Arc<dyn crate::clock::Clock>,
) -> anyhow::Result<AppState> {
    let plans = Arc::new(config.catalog()?);
    let token_lifetime = config.token_lifetime()?;
    let invoicing = Arc::new(config.invoicing.terms()?);
    let store = open_store(config).await?;
    let started = std::time::Instant::now();
    let authz = crate::service::index::LiveIndex::load(store.clone())
        .await
        .context("loading the authorization index")?;
    tracing::info!(
        revision = authz.revision(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "authorization index loaded"
    );
    authz.follow(store.grant_notifications().await?, config.index_poll);
    let permits = std::thread::available_parallelism().map_or(2, |n| n.get());
    let gh = Guildhall {
        store,
        hasher: PasswordHasher::new(permits)?,
        clock,
        session_ttl: chrono::Duration::from_std(config.session_ttl)
            .context("--session-ttl is too long")?,
        token_lifetime,
        authz,
        mailer: Arc::new(mailer(config)?),
        public_url: public_url(config),
        plans,
        invoicing,
        address_limits: crate::service::AddressLimits {
            signups_per_hour: config.signups_per_address,
            resets_per_hour: config.password_resets_per_address,
        },
    };
    crate::service::outbox::spawn_sender(gh.clone());
    Ok(AppState::new(crate::api::Shared {
        gh,
        metrics: metrics_handle()?,
        service_token: config
            .service_token
            .as_ref()
            .map(|t| Arc::new(crate::secret::TokenHash::of(t.expose_secret()))),
        public_url: config.public_url.clone(),
    }))
}

/// Opens (and migrates) the store `config` names, creating the default data directory when the
/// embedded SQLite file lives there.
pub async fn open_store(config: &ServeConfig) -> anyhow::Result<Arc<dyn crate::store::Store>> {
    let url = config.database_url();
    if url.expose_secret().starts_with("sqlite:") && config.database_url.is_none() {
        let dir = config.data_dir();
        std::fs::create_dir_all(&dir).with_context(|| {
            format!(
                "creating the data directory {}; pass --data-dir to use another",
                dir.display()
            )
        })?;
    }
    crate::store::open_with(url.expose_secret(), &config.open_options())
        .await
        .context("opening the database; check --database-url")
}

/// Produces the invoices of the month before `now` (idempotent), logging what it did.
async fn invoice_previous_month(gh: &Guildhall) {
    let now = gh.clock.now();
    let month = crate::domain::billing::Month::of(now).previous();
    match crate::service::billing::generate_invoices(
        &*gh.store,
        &gh.plans,
        &gh.invoicing,
        month,
        now,
        |_, _| {},
    )
    .await
    {
        Ok(r) if r.created > 0 => {
            tracing::info!(month = %month, created = r.created, "invoices produced");
        }
        Ok(_) => tracing::debug!(month = %month, "no invoice to produce"),
        Err(e) => tracing::error!(month = %month, error = %e, "producing invoices failed"),
    }
}

/// The invoice run: the previous month at start, then a check every hour, so a month is
/// invoiced within the hour after it closes (running it again changes nothing).
fn spawn_invoicing(gh: Guildhall) {
    tokio::spawn(async move {
        loop {
            invoice_previous_month(&gh).await;
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
    });
}

/// The mail transport: SMTP, the mail directory, or `mail/` in the data directory (said in the
/// log, so people find their mail).
fn mailer(config: &ServeConfig) -> anyhow::Result<crate::mail::Mailer> {
    let smtp = config
        .smtp_url
        .as_ref()
        .map(|u| u.expose_secret().to_owned());
    let dir = config
        .mail_dir
        .clone()
        .unwrap_or_else(|| config.data_dir().join("mail"));
    if smtp.is_none() && config.mail_dir.is_none() {
        tracing::info!(dir = %dir.display(), "no --smtp-url or --mail-dir: mail is written here as .eml files");
    }
    let retry = crate::mail::Retry {
        first: config.mail_retry_first,
        attempts: config.mail_attempts,
        ..crate::mail::Retry::default()
    };
    crate::mail::Mailer::new(smtp.as_deref(), dir, retry)
}

/// The base of links in mails: `--public-url`, or the listen address.
fn public_url(config: &ServeConfig) -> String {
    config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.listen))
        .trim_end_matches('/')
        .to_owned()
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let state = build(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| {
            format!(
                "listening on {}; pass --listen to use another address",
                config.listen
            )
        })?;
    spawn_invoicing(state.gh.clone());
    tracing::info!(
        listen = %listener.local_addr()?,
        database = state.gh.store.backend(),
        data_dir = %config.data_dir().display(),
        "guildhall is serving"
    );
    if config.service_token.is_none() {
        tracing::info!(
            "the check API answers only API tokens with the `check` capability: no service \
             token is set (pass --service-token or set GUILDHALL_SERVICE_TOKEN to let other \
             services ask it)"
        );
    }
    crate::connections::serve(listener, api::router(state), config.limits(), shutdown()).await;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}

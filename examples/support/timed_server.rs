//! The load run's local AppSync Events server (`examples/load.rs`): appsync-local on its own
//! thread and single-threaded runtime, timing every request, with its thread's CPU time readable
//! apart from the handler's.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::serve::ListenerExt;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Publish request durations seen by the server, in ms, in arrival order.
pub type Timings = Arc<Mutex<Vec<f64>>>;

/// A local AppSync Events server on its own single-threaded runtime (so its work is not scheduled
/// on the handler's runtime and its CPU time can be told apart), timing every request.
pub struct Local {
    /// `http://127.0.0.1:PORT/event`.
    pub endpoint: String,
    /// `/proc/self/task/<tid>/stat` of the server's thread.
    thread_stat: Arc<Mutex<Option<String>>>,
    state: appsync_local::AppState,
    timings: Timings,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Local {
    /// Starts the server, accepting `api_key`.
    pub fn start(api_key: &str) -> Result<Local, Error> {
        let state = appsync_local::AppState::new(appsync_local::Config {
            api_keys: vec![api_key.into()],
            namespaces: vec!["orders".into(), "presence".into(), "prices".into()],
            // Nothing inspects the history here; keep the server's memory flat across runs.
            history: 1,
            ..Default::default()
        });
        let timings: Timings = Arc::default();
        // Bound here so the endpoint is known; served from the thread's own runtime (a runtime
        // cannot be entered from inside the caller's).
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        listener.set_nonblocking(true)?;
        let endpoint = format!("http://{}/event", listener.local_addr()?);
        let timed = timings.clone();
        let app = appsync_local::router(state.clone()).layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let timed = timed.clone();
                async move {
                    let started = Instant::now();
                    let response = next.run(request).await;
                    timed
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(started.elapsed().as_secs_f64() * 1000.0);
                    response
                }
            },
        ));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread_stat: Arc<Mutex<Option<String>>> = Arc::default();
        let own_stat = thread_stat.clone();
        let thread = std::thread::spawn(move || {
            // `/proc/thread-self` is `<pid>/task/<tid>`.
            if let Ok(path) = std::fs::read_link("/proc/thread-self") {
                *own_stat.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some(format!("/proc/{}/stat", path.display()));
            }
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => return eprintln!("local server runtime: {e}"),
            };
            let served = runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?.tap_io(|tcp| {
                    let _ = tcp.set_nodelay(true);
                });
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await
            });
            if let Err(e) = served {
                eprintln!("local server: {e}");
            }
        });
        Ok(Local {
            endpoint,
            thread_stat,
            state,
            timings,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// CPU seconds used by the server's thread so far.
    pub fn cpu_s(&self) -> f64 {
        let path = self
            .thread_stat
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        path.map_or(0.0, |p| cpu_s(&p))
    }

    pub fn take_timings(&self) -> Vec<f64> {
        std::mem::take(&mut *self.timings.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub fn set_latency(&self, latency_ms: u64) {
        self.state.set_faults(appsync_local::Faults {
            latency_ms,
            ..Default::default()
        });
    }

    pub fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// User plus system CPU seconds from a `/proc/.../stat` file (clock ticks of 10 ms on Linux,
/// so only totals over many invocations are meaningful).
pub fn cpu_s(path: &str) -> f64 {
    crate::cpu_time::stat_ticks_ns(path) as f64 / 1e9
}

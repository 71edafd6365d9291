//! TLS for `--tls`: HTTPS and WSS on the one port, so clients that insist on `https`/`wss`
//! (Amplify JS derives `wss://` from the endpoint and has no option against it) work unmodified.
//!
//! The certificate is either generated at start — self-signed, for `localhost`, `127.0.0.1` and
//! `::1`, written as PEM to a file whose path is printed so `NODE_EXTRA_CA_CERTS` or a browser
//! can trust it — or read from the user's own PEM files. Handshakes run in their own tasks, so a
//! slow or silent client never holds up the accept loop.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::config::TlsConfig;

/// The names a generated certificate is valid for.
pub const SELF_SIGNED_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// A client that has not finished its handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Handshaken connections waiting for the server to take them.
const ACCEPT_BACKLOG: usize = 64;

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The self-signed certificate could not be generated.
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// A PEM file could not be read or written.
    #[error("{action} {path}: {source}")]
    File {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// A PEM file holds no usable certificate or key.
    #[error("{path}: {reason}")]
    Pem { path: PathBuf, reason: String },
    /// rustls refused the certificate and key (for example, a key that does not match).
    #[error("the certificate and key are not usable: {0}")]
    Rustls(#[from] rustls::Error),
}

/// A loaded certificate, ready to accept connections.
#[derive(Clone)]
pub struct Tls {
    acceptor: TlsAcceptor,
    cert_pem: String,
    cert_path: PathBuf,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("cert_path", &self.cert_path)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// Generates or reads the certificate. A generated one is written to `cert_out`, or else to
    /// `appsync-local/localhost-<port>.pem` under the system's temporary directory (the port keeps
    /// two servers on one machine apart).
    pub fn load(config: &TlsConfig, port: u16) -> Result<Self, TlsError> {
        match config {
            TlsConfig::SelfSigned { cert_out } => {
                let path = cert_out.clone().unwrap_or_else(|| default_cert_path(port));
                let names = SELF_SIGNED_NAMES.map(str::to_owned).to_vec();
                let generated = rcgen::generate_simple_self_signed(names)?;
                let cert_pem = generated.cert.pem();
                write_pem(&path, &cert_pem)?;
                let key = PrivateKeyDer::Pkcs8(generated.signing_key.serialize_der().into());
                Self::build(vec![generated.cert.der().clone()], key, cert_pem, path)
            }
            TlsConfig::Files { cert, key } => {
                let cert_pem = read(cert)?;
                let chain = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| pem_error(cert, &e.to_string()))?;
                if chain.is_empty() {
                    return Err(pem_error(cert, "no certificate found"));
                }
                let key_pem = read(key)?;
                let private = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
                    .map_err(|e| pem_error(key, &format!("no private key found ({e})")))?;
                Self::build(chain, private, cert_pem, cert.clone())
            }
        }
    }

    fn build(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        cert_pem: String,
        cert_path: PathBuf,
    ) -> Result<Self, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        // HTTP/1.1 only: WebSocket upgrades are HTTP/1.1 requests.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            cert_pem,
            cert_path,
        })
    }

    /// The certificate (chain) in PEM, for a client to trust.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// Where the certificate's PEM is: the file written for a generated one, or `--tls-cert`.
    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    /// Wraps a TCP listener: connections come out of the returned listener handshaken.
    pub fn listener(&self, tcp: TcpListener) -> io::Result<TlsListener> {
        let addr = tcp.local_addr()?;
        let (tx, rx) = mpsc::channel(ACCEPT_BACKLOG);
        let acceptor = self.acceptor.clone();
        let task = tokio::spawn(accept_loop(tcp, acceptor, tx));
        Ok(TlsListener { rx, addr, task })
    }
}

fn default_cert_path(port: u16) -> PathBuf {
    std::env::temp_dir()
        .join("appsync-local")
        .join(format!("localhost-{port}.pem"))
}

fn read(path: &Path) -> Result<String, TlsError> {
    std::fs::read_to_string(path).map_err(|source| TlsError::File {
        action: "cannot read",
        path: path.to_owned(),
        source,
    })
}

fn write_pem(path: &Path, pem: &str) -> Result<(), TlsError> {
    let failed = |source| TlsError::File {
        action: "cannot write the certificate to",
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    std::fs::write(path, pem).map_err(failed)
}

fn pem_error(path: &Path, reason: &str) -> TlsError {
    TlsError::Pem {
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}

async fn accept_loop(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    tx: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    loop {
        let (stream, peer) = match tcp.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: wait instead of spinning, as axum does.
                tracing::debug!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let acceptor = acceptor.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    // A closed receiver means the server stopped: drop the connection.
                    let _ = tx.send((tls, peer)).await;
                }
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "tls handshake failed"),
                Err(_) => tracing::debug!(%peer, "tls handshake timed out"),
            }
        });
    }
}

/// A listener whose connections are TLS streams; what [`crate::serve_tls`] serves on.
pub struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(accepted) => accepted,
            // The accept loop never ends on its own; if it is gone, so is the server.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_certificate_is_written_where_asked_and_reads_back_as_files() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        let tls = Tls::load(
            &TlsConfig::SelfSigned {
                cert_out: Some(cert.clone()),
            },
            0,
        )
        .unwrap();
        assert_eq!(tls.cert_path(), cert);
        let written = std::fs::read_to_string(&cert).unwrap();
        assert_eq!(written, tls.cert_pem());
        assert!(written.starts_with("-----BEGIN CERTIFICATE-----"));
    }

    #[test]
    fn missing_or_empty_pem_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = TlsConfig::Files {
            cert: dir.path().join("nope.pem"),
            key: dir.path().join("nope.key"),
        };
        let e = Tls::load(&missing, 0).unwrap_err().to_string();
        assert!(
            e.starts_with("cannot read ") && e.contains("nope.pem"),
            "{e}"
        );

        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not pem").unwrap();
        let files = TlsConfig::Files {
            cert: empty.clone(),
            key: empty,
        };
        let e = Tls::load(&files, 0).unwrap_err().to_string();
        assert!(e.contains("no certificate found"), "{e}");
    }
}

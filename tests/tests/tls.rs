//! The relay's own TLS (DESIGN §2): `wss://` and `https://` with a PEM
//! certificate and key, trusted by a client that is given the certificate.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use kfood_protocol::Role;
use kfood_relay::config::Limits;
use kfood_relay::store::SledStore;
use kfood_tests::{secret, token};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::Connector;

/// A relay given --tls-cert/--tls-key serves the socket and the API over TLS only.
#[tokio::test]
async fn wss_and_https_with_a_private_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();

    let store = SledStore::open(&dir.path().join("data"), 16).unwrap();
    kfood_relay::seed_demo(&store).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let tls = kfood_relay::server::tls_acceptor(&cert_path, &key_path).unwrap();
    let opts = kfood_relay::Options {
        limits: Limits::default(),
        secret: secret(),
        demo: true,
        tls: Some(tls),
    };
    let relay = tokio::spawn(kfood_relay::run(
        listener,
        Arc::new(store),
        opts,
        shutdown.clone(),
    ));

    // https: the public menu, trusting only our certificate.
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let menu: Value = http
        .get(format!("https://localhost:{port}/api/menu"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(menu["items"].as_array().unwrap().len() > 10);

    // Plain HTTP on a TLS port is refused (no answer in clear text).
    assert!(reqwest::get(format!("http://localhost:{port}/healthz"))
        .await
        .is_err());

    // wss: authenticate and get the snapshot.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let (mut ws, _) = tokio_tungstenite::connect_async_tls_with_config(
        format!("wss://localhost:{port}/ws"),
        None,
        false,
        Some(Connector::Rustls(Arc::new(config))),
    )
    .await
    .unwrap();
    let auth =
        json!({"type": "authentication", "userType": "crew", "token": token("kim", Role::Crew)});
    ws.send(Message::text(auth.to_string())).await.unwrap();
    let first = ws.next().await.unwrap().unwrap().into_text().unwrap();
    let v: Value = serde_json::from_str(&first).unwrap();
    let kinds: Vec<String> = match v["type"].as_str() {
        Some("batch") => v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap_or("").to_owned())
            .collect(),
        Some(k) => vec![k.to_owned()],
        None => vec![],
    };
    assert_eq!(kinds[0], "authenticated", "{v}");

    shutdown.cancel();
    relay.await.unwrap().unwrap();
}

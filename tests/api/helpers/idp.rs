//! A stand-in identity provider: signing keys generated in the test (RSA 2048, P-256,
//! Ed25519), tokens signed with them, and its key set (JWKS) served over real HTTP on a
//! socket, changeable while the test runs (rotation) and able to fail (500, garbage, a
//! hang) the way a real provider does.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{self, KeyPair};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};

/// One signing key of the provider and the JWK that publishes it.
pub struct SigningKey {
    pub kid: String,
    pub algorithm: Algorithm,
    encoding: EncodingKey,
    /// The public key as a JWK.
    pub jwk: Value,
    /// The RSA public key in PEM (for the `alg` confusion attack), RSA keys only.
    pub public_pem: Option<String>,
}

impl SigningKey {
    pub fn rsa(kid: &str) -> SigningKey {
        let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        let public = private.to_public_key();
        let pem = private.to_pkcs1_pem(rsa::pkcs8::LineEnding::LF).unwrap();
        let public_pem =
            rsa::pkcs1::EncodeRsaPublicKey::to_pkcs1_pem(&public, rsa::pkcs8::LineEnding::LF)
                .unwrap();
        SigningKey {
            kid: kid.into(),
            algorithm: Algorithm::RS256,
            encoding: EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
            jwk: json!({
                "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
                "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
                "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
            }),
            public_pem: Some(public_pem),
        }
    }

    pub fn es256(kid: &str) -> SigningKey {
        let rng = ring::rand::SystemRandom::new();
        let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let pkcs8 = signature::EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
        let pair = signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap();
        // Uncompressed point: 0x04, x, y.
        let point = pair.public_key().as_ref();
        SigningKey {
            kid: kid.into(),
            algorithm: Algorithm::ES256,
            encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk: json!({
                "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
                "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
            }),
            public_pem: None,
        }
    }

    pub fn ed25519(kid: &str) -> SigningKey {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let pair = signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        SigningKey {
            kid: kid.into(),
            algorithm: Algorithm::EdDSA,
            encoding: EncodingKey::from_ed_der(pkcs8.as_ref()),
            jwk: json!({
                "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": kid,
                "x": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
            }),
            public_pem: None,
        }
    }

    /// `claims` signed with this key, the header naming its `kid` and algorithm.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }
}

/// What the JWKS endpoint answers next.
#[derive(Clone)]
pub enum Answer {
    /// 200 with these keys.
    Keys(Vec<Value>),
    /// This status and body.
    Fail(StatusCode, String),
    /// No answer for this long.
    Hang(Duration),
}

/// The provider's JWKS endpoint: `GET /jwks.json` on its own socket.
pub struct JwksServer {
    pub url: String,
    answer: Arc<Mutex<Answer>>,
    fetches: Arc<AtomicUsize>,
}

impl JwksServer {
    /// Over plain HTTP.
    pub async fn start(keys: &[&SigningKey]) -> JwksServer {
        let (server, app, listener) = Self::bind(keys, "http").await;
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        server
    }

    /// Over HTTPS with a certificate for 127.0.0.1 from a CA made here; returns the CA's
    /// certificate (PEM) for the client to trust.
    pub async fn start_tls(keys: &[&SigningKey]) -> (JwksServer, String) {
        let (server, app, listener) = Self::bind(keys, "https").await;
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &ca, &ca_key)
            .unwrap();
        let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(Arc::new(
            tokio_rustls::rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            tokio_rustls::rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let (acceptor, app) = (acceptor.clone(), app.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = hyper_util::service::TowerToHyperService::new(app);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        (server, ca.pem())
    }

    async fn bind(
        keys: &[&SigningKey],
        scheme: &str,
    ) -> (JwksServer, axum::Router, tokio::net::TcpListener) {
        let answer = Arc::new(Mutex::new(Answer::Keys(
            keys.iter().map(|k| k.jwk.clone()).collect(),
        )));
        let fetches = Arc::new(AtomicUsize::new(0));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("{scheme}://{}/jwks.json", listener.local_addr().unwrap());
        let (a, f) = (answer.clone(), fetches.clone());
        let app = axum::Router::new().route(
            "/jwks.json",
            axum::routing::get(move || {
                let (a, f) = (a.clone(), f.clone());
                async move {
                    f.fetch_add(1, Ordering::SeqCst);
                    let now = a.lock().unwrap().clone();
                    match now {
                        Answer::Keys(keys) => axum::Json(json!({ "keys": keys })).into_response(),
                        Answer::Fail(status, body) => (status, body).into_response(),
                        Answer::Hang(d) => {
                            tokio::time::sleep(d).await;
                            StatusCode::GATEWAY_TIMEOUT.into_response()
                        }
                    }
                }
            }),
        );
        let server = JwksServer {
            url,
            answer,
            fetches,
        };
        (server, app, listener)
    }

    /// From now on the endpoint answers `answer`.
    pub fn set(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }

    /// Serves exactly these keys from now on.
    pub fn publish(&self, keys: &[&SigningKey]) {
        self.set(Answer::Keys(keys.iter().map(|k| k.jwk.clone()).collect()));
    }

    /// How many times the key set was fetched.
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

/// Seconds since the epoch, `offset` from now.
pub fn epoch_in(offset: i64) -> i64 {
    chrono::Utc::now().timestamp() + offset
}

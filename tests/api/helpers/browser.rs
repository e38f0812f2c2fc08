//! A real headless Chromium for the console tests: Debian's `chromium` behind its own
//! `chromedriver`, driven over WebDriver with fantoccini, at most two at once, with the
//! page helpers the tests read the console through (scripts, waits, the connection
//! indicator, rendered rows, screenshots at a device size).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::{json, Value};
use tokio::sync::Semaphore;
use uuid::Uuid;

use super::TestApp;

/// Browsers open at once across this binary's tests: the machine has two cores, and
/// Chromium is the heaviest thing in the run.
static BROWSERS: Semaphore = Semaphore::const_new(2);

/// Debian's Chromium; the driver is found on PATH.
const CHROMIUM: &str = "/usr/bin/chromium";

/// A headless Chromium behind its own chromedriver; both die with this value.
pub struct Browser {
    /// The WebDriver session, for what the helpers below do not cover.
    pub client: Client,
    driver: Child,
    profile: PathBuf,
    _permit: tokio::sync::SemaphorePermit<'static>,
}

impl Browser {
    /// Starts chromedriver and a Chromium session (waiting for a free browser slot).
    pub async fn start() -> Browser {
        assert!(
            std::path::Path::new(CHROMIUM).exists(),
            "the console tests need Chromium: apt-get install -y chromium chromium-driver \
             (.ci/run installs both)"
        );
        let driver_bin = which("chromedriver")
            .expect("the console tests need chromedriver: apt-get install -y chromium-driver");
        let permit = BROWSERS.acquire().await.expect("semaphore open");
        let port = free_port();
        let mut command = Command::new(driver_bin);
        command
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own process group, so Drop can end chromedriver and the Chromium it started.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let driver = command.spawn().expect("spawn chromedriver");
        let profile = std::env::temp_dir().join(format!("showfeed-chromium-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&profile).unwrap();
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                    // Background tabs must keep running for the many-tabs tests.
                    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                    "--disable-backgrounding-occluded-windows",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut browser = None;
        let started = Instant::now();
        let mut last_error = String::new();
        while started.elapsed() < Duration::from_secs(30) {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    browser = Some(client);
                    break;
                }
                Err(e) => {
                    last_error = e.to_string();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        let client = browser.unwrap_or_else(|| panic!("no WebDriver session: {last_error}"));
        Browser {
            client,
            driver,
            profile,
            _permit: permit,
        }
    }

    /// Ends the session (Chromium exits) before the driver is killed.
    pub async fn quit(self) {
        let _ = tokio::time::timeout(Duration::from_secs(10), self.client.clone().close()).await;
    }

    /// Opens the console of `show` in the current tab with `token`.
    pub async fn open_show(&self, app: &TestApp, show: Uuid, token: &str) {
        // about:blank first: a new document, even when only the fragment would differ.
        self.client.goto("about:blank").await.unwrap();
        self.client
            .goto(&format!("{}/#token={token}&show={show}", app.address))
            .await
            .unwrap();
    }

    /// Runs `script` (a function body) in the page and returns what it returns.
    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Clicks the element with this id (panics when there is none).
    pub async fn click_id(&self, id: &str) {
        self.client
            .find(fantoccini::Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("no #{id}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking #{id}: {e}"));
    }

    /// Types `text` into the element with this id.
    pub async fn type_into(&self, id: &str, text: &str) {
        self.client
            .find(fantoccini::Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("no #{id}: {e}"))
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("typing into #{id}: {e}"));
    }

    /// Waits for the console's confirmation dialog to ask something containing `question`
    /// (with its confirm button focused), then answers with a key: Enter confirms,
    /// Escape cancels.
    pub async fn answer_dialog(&self, question: &str, confirm: bool) {
        self.wait_for(
            &format!("the confirmation dialog asking {question:?}"),
            Duration::from_secs(3),
            &format!(
                "document.getElementById('confirm').open && document.activeElement.id === 'confirm-ok' \
                 && document.getElementById('confirm-text').textContent.includes({})",
                js_str(question)
            ),
        )
        .await;
        let key = if confirm { "\u{E007}" } else { "\u{E00C}" };
        self.type_into("confirm-ok", key).await;
        self.wait_for(
            "the dialog closed",
            Duration::from_secs(2),
            "!document.getElementById('confirm').open",
        )
        .await;
    }

    /// Polls `script` (an expression) until it is true; panics with `what` after `limit`.
    pub async fn wait_for(&self, what: &str, limit: Duration, script: &str) {
        let started = Instant::now();
        let body = format!("return !!({script});");
        loop {
            if self.js(&body).await == json!(true) {
                return;
            }
            if started.elapsed() > limit {
                let status = self.status().await;
                panic!("waited {limit:?} for {what}; connection status: {status:?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The connection indicator: (state, text); empty on a page without one (`/api/docs`).
    pub async fn status(&self) -> (String, String) {
        let v = self
            .js("const c = document.getElementById('conn'); if (!c) return ['', '']; return [c.dataset.state, c.textContent.trim().replace(/\\s+/g, ' ')];")
            .await;
        (
            v[0].as_str().unwrap_or("").to_owned(),
            v[1].as_str().unwrap_or("").to_owned(),
        )
    }

    /// Waits up to 15 s for the connection indicator to say live.
    pub async fn wait_live(&self) {
        self.wait_for(
            "the connection to be live",
            Duration::from_secs(15),
            "document.getElementById('conn').dataset.state === 'live'",
        )
        .await;
    }

    /// Ids of the rendered comments, top to bottom.
    pub async fn comment_ids(&self) -> Vec<String> {
        let v = self
            .js("return [...document.querySelectorAll('#feed > li')].map(li => li.dataset.id);")
            .await;
        serde_json::from_value(v).unwrap()
    }

    /// Rendered claims as (id, status), sorted by id.
    pub async fn claims(&self) -> Vec<(String, String)> {
        let v = self
            .js("return [...document.querySelectorAll('#board [data-claim][data-status]')].map(e => [e.dataset.claim, e.dataset.status]);")
            .await;
        let mut claims: Vec<(String, String)> = serde_json::from_value(v).unwrap();
        claims.sort();
        claims
    }

    /// Saves a PNG of the page at `width` x `height` to target/screenshots/`name`.
    pub async fn screenshot(&self, name: &str, width: u32, height: u32) {
        self.resize_viewport(width, height).await;
        // Let layout settle after the resize.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), png).unwrap();
    }

    /// Makes the page's viewport `width` x `height` CSS pixels. Chromium will not make a
    /// window narrower than ~500 px, so this emulates the device size (DevTools protocol
    /// through chromedriver), as a phone would present it.
    pub async fn resize_viewport(&self, width: u32, height: u32) {
        self.client
            .issue_cmd(Cdp {
                cmd: "Emulation.setDeviceMetricsOverride",
                params: json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}),
            })
            .await
            .expect("set the device metrics");
        let inner = self.js("return window.innerWidth;").await;
        assert_eq!(inner, json!(width), "viewport width");
    }
}

/// A DevTools protocol command, sent through chromedriver's `goog/cdp/execute`.
#[derive(Debug)]
pub struct Cdp {
    /// The DevTools method, e.g. `Emulation.setDeviceMetricsOverride`.
    pub cmd: &'static str,
    /// Its parameters.
    pub params: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        let body = json!({"cmd": self.cmd, "params": self.params});
        (axum::http::Method::POST, Some(body.to_string()))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let pid = self.driver.id() as i32;
        // SAFETY: signalling our own child's process group.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn which(binary: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(binary))
            .find(|p| p.exists())
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("screenshots")
}

/// JS string literal for `s` (JSON is a subset of JS for strings).
pub fn js_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

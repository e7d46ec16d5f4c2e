//! Headless Chromium driven over the DevTools protocol (plumbing of
//! `cargo xtask book-browser`).
//!
//! Why not `--window-size` and `--dump-dom`: headless Chromium will not
//! make a window narrower than 500 px, so a phone's 390 px can only be
//! had by emulating a device (`Emulation.setDeviceMetricsOverride`),
//! which is a DevTools command. Chromium takes those commands on a pipe
//! with `--remote-debugging-pipe`: JSON messages, each ended by a NUL
//! byte, read from its fd 3, answered on its fd 4. No server, no
//! WebSocket, no WebDriver.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use serde_json::{Value, json};

/// How long one command may take to be answered.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// A running headless Chromium with one page, attached.
#[derive(Debug)]
pub(crate) struct Browser {
    child: Child,
    /// Chromium's fd 3: our commands.
    commands: File,
    /// Chromium's fd 4: its answers and events.
    answers: File,
    /// Bytes read from `answers` that do not make a message yet.
    pending: Vec<u8>,
    next_id: u64,
    /// The page's session, for commands to the page.
    session: String,
}

impl Browser {
    /// Starts Chromium with `profile` as its user-data directory and
    /// attaches to its page.
    pub(crate) fn launch(
        chromium: &Path,
        profile: &Path,
    ) -> Result<Browser, String> {
        let (child, commands, answers) = Browser::spawn(chromium, profile)?;
        let mut browser = Browser {
            child,
            commands,
            answers,
            pending: Vec::new(),
            next_id: 0,
            session: String::new(),
        };
        // Commands to the browser itself, before there is a page.
        let targets = browser.send("Target.getTargets", json!({}), None)?;
        let page = targets["targetInfos"]
            .as_array()
            .and_then(|all| all.iter().find(|t| t["type"] == "page"))
            .and_then(|t| t["targetId"].as_str())
            .ok_or("Chromium has no page to attach to")?
            .to_string();
        let attached = browser.send(
            "Target.attachToTarget",
            json!({ "targetId": page, "flatten": true }),
            None,
        )?;
        browser.session = attached["sessionId"]
            .as_str()
            .ok_or("Chromium did not give the page a session")?
            .to_string();
        Ok(browser)
    }

    /// Starts Chromium with its DevTools pipe on fds 3 and 4: the
    /// child, our end of the commands, our end of the answers.
    fn spawn(
        chromium: &Path,
        profile: &Path,
    ) -> Result<(Child, File, File), String> {
        // pipe2(2) gives (read end, write end): Chromium reads our
        // commands and writes its answers.
        let (their_commands, our_commands) = pipe()?;
        let (our_answers, their_answers) = pipe()?;
        let (read_fd, write_fd) =
            (their_commands.as_raw_fd(), their_answers.as_raw_fd());
        let mut command = Command::new(chromium);
        command
            .args([
                "--headless",
                // Root in a container has no user namespaces for the
                // sandbox.
                "--no-sandbox",
                "--disable-gpu",
                // The machine has no network: keep Chromium from trying.
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--remote-debugging-pipe",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so that ending it ends its helpers.
            .process_group(0);
        // SAFETY: between fork and exec only fcntl(2), dup2(2) and
        // close(2), async-signal-safe, are called, on descriptors that
        // stay open until after spawn.
        unsafe {
            command.pre_exec(move || {
                // Copies above 10 first: an end may already be fd 3 or
                // 4 (dup2 onto itself would keep close-on-exec), or the
                // other end's target.
                let high = |fd| libc::fcntl(fd, libc::F_DUPFD, 10);
                let (read, write) = (high(read_fd), high(write_fd));
                if read < 0
                    || write < 0
                    || libc::dup2(read, 3) < 0
                    || libc::dup2(write, 4) < 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                libc::close(read);
                libc::close(write);
                Ok(())
            });
        }
        let child = command.spawn().map_err(|e| {
            format!("cannot start {}: {e}", chromium.display())
        })?;
        drop((their_commands, their_answers));
        Ok((child, File::from(our_commands), File::from(our_answers)))
    }

    /// Loads `url` in a viewport `width` px wide, as a phone when
    /// `mobile`, and waits until it has loaded and its fonts are in.
    pub(crate) fn open(
        &mut self,
        url: &str,
        width: u32,
        mobile: bool,
    ) -> Result<(), String> {
        self.viewport(width, 900, mobile)?;
        self.call("Page.navigate", json!({ "url": url }))?;
        let start = Instant::now();
        while start.elapsed() < ANSWER_TIMEOUT {
            let ready = self.evaluate(
                "document.readyState === 'complete' && \
                 (!document.fonts || document.fonts.status === 'loaded')",
            )?;
            if ready == Value::Bool(true) {
                // Give the page's own scripts (highlighting, search) a
                // moment after the load event.
                std::thread::sleep(Duration::from_millis(300));
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("{url} did not finish loading"))
    }

    /// Makes the page see `prefers-color-scheme: dark` (or light), as a
    /// reader's system setting would: mdBook then opens in its preferred
    /// dark theme (book.toml's `preferred-dark-theme`).
    pub(crate) fn color_scheme(&mut self, dark: bool) -> Result<(), String> {
        let value = if dark { "dark" } else { "light" };
        self.call(
            "Emulation.setEmulatedMedia",
            json!({
                "features": [{"name": "prefers-color-scheme", "value": value}],
            }),
        )
        .map(drop)
    }

    /// Sets the viewport: `width` by `height` CSS px, one device pixel
    /// each.
    fn viewport(
        &mut self,
        width: u32,
        height: u32,
        mobile: bool,
    ) -> Result<(), String> {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({
                "width": width,
                "height": height,
                "deviceScaleFactor": 1,
                "mobile": mobile,
            }),
        )
        .map(drop)
    }

    /// The value of a JavaScript expression in the page (a promise is
    /// waited for).
    pub(crate) fn evaluate(
        &mut self,
        expression: &str,
    ) -> Result<Value, String> {
        let answer = self.call(
            "Runtime.evaluate",
            json!({
                "expression": expression,
                "returnByValue": true,
                "awaitPromise": true,
            }),
        )?;
        if let Some(exception) = answer.get("exceptionDetails") {
            return Err(format!("a script failed in the page: {exception}"));
        }
        Ok(answer["result"]["value"].clone())
    }

    /// A PNG of the whole page, `height` px of it at most, written to `to`.
    pub(crate) fn screenshot(
        &mut self,
        width: u32,
        height: u32,
        mobile: bool,
        to: &Path,
    ) -> Result<(), String> {
        self.viewport(width, height, mobile)?;
        let shot = self.call(
            "Page.captureScreenshot",
            json!({ "format": "png", "captureBeyondViewport": false }),
        )?;
        let data = shot["data"].as_str().ok_or("no screenshot data")?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|e| format!("bad screenshot data from Chromium: {e}"))?;
        crate::files::write(to, &png)
    }

    /// A command to the page's session.
    fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        let session = self.session.clone();
        self.send(method, params, Some(&session))
    }

    /// A command to the page's `session`, or to the browser itself.
    fn send(
        &mut self,
        method: &str,
        params: Value,
        session: Option<&str>,
    ) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message =
            json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        let mut bytes = message.to_string().into_bytes();
        bytes.push(0);
        self.commands
            .write_all(&bytes)
            .map_err(|e| format!("Chromium stopped taking commands: {e}"))?;
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        loop {
            let message = self.next_message(deadline, method)?;
            if message["id"] == json!(id) {
                if let Some(error) = message.get("error") {
                    return Err(format!("Chromium refused {method}: {error}"));
                }
                return Ok(message["result"].clone());
            }
            // An event, or another session's answer: not ours.
        }
    }

    /// The next whole message from Chromium, before `deadline`.
    fn next_message(
        &mut self,
        deadline: Instant,
        method: &str,
    ) -> Result<Value, String> {
        loop {
            if let Some(end) = self.pending.iter().position(|&b| b == 0) {
                let message: Vec<u8> = self.pending.drain(..=end).collect();
                let text = String::from_utf8_lossy(&message[..end]);
                return serde_json::from_str(&text).map_err(|e| {
                    format!("unreadable answer from Chromium: {e}")
                });
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
            let mut fds =
                [PollFd::new(self.answers.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::from(ms)) {
                Ok(0) => {
                    return Err(format!(
                        "Chromium did not answer {method} within {} s",
                        ANSWER_TIMEOUT.as_secs()
                    ));
                }
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(format!("waiting for Chromium: {e}")),
                Ok(_) => {}
            }
            let mut chunk = [0u8; 65536];
            match self.answers.read(&mut chunk) {
                Ok(0) => {
                    return Err(format!("Chromium exited during {method}"));
                }
                Ok(n) => self.pending.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(format!("reading from Chromium: {e}")),
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let pgid = self.child.id() as i32;
        // SAFETY: kill(2) with a negative pid signals the process group
        // we created for Chromium; no memory is involved.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

fn pipe() -> Result<(OwnedFd, OwnedFd), String> {
    // Close-on-exec: the child gets only the two ends it is given, as
    // fds 3 and 4 (dup2 clears the flag on the copies).
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| format!("cannot make a pipe for Chromium: {e}"))
}

//! Single keys from the terminal, for a program that waits for a
//! person.
//!
//! [`Keys::open`] switches the terminal out of line mode: no echo, no
//! waiting for Enter, and no signals from Ctrl-C, Ctrl-\ and Ctrl-Z,
//! which arrive as bytes instead. So Ctrl-C can mean "stop" to the
//! program alone, and it stops without a signal that `just` (in the
//! same foreground job) would report as an error. Ctrl-Z still
//! suspends the whole job, as the terminal would. The terminal is put
//! back when [`Keys`] is dropped, and by [`restore_after_signal`] from
//! a handler of a signal that ends the process.
//!
//! [`Keys::open`] reads stdin. [`Keys::open_terminal`] also serves a
//! program whose stdin is not a terminal but that a person watches on
//! one (`echo | just spawn`): it reads the controlling terminal,
//! `/dev/tty`, as `less` does, so that Ctrl-C there is still a key.

use std::cell::UnsafeCell;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::sys::termios::{
    self, LocalFlags, SetArg, SpecialCharacterIndices, Termios,
};
use nix::unistd::{getpgrp, tcgetpgrp};

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Enter or space: go on.
    Next,
    /// `q`, Ctrl-C or Ctrl-\: stop.
    Stop,
    /// Ctrl-D, or the terminal closed: go on without asking again.
    End,
    /// Back from Ctrl-Z (`fg`): ask again.
    Resumed,
    /// Any other key.
    Other,
}

/// The terminal in single-key mode; dropping it puts the terminal back.
#[derive(Debug)]
pub struct Keys {
    /// The terminal read: stdin, or `/dev/tty` (then `tty` owns it).
    fd: RawFd,
    /// `/dev/tty`, when it is the terminal read: closed on drop, after
    /// the settings are put back.
    _tty: Option<OwnedFd>,
    /// The settings to put back.
    saved: Termios,
    /// The settings for single keys.
    raw: Termios,
}

/// The settings to put back from a signal handler: written before the
/// terminal changes, then `set`; `restore_after_signal` reads them.
struct Saved {
    set: AtomicBool,
    value: UnsafeCell<MaybeUninit<libc::termios>>,
}

// SAFETY: `value` is written only while `set` is false and no `Keys`
// exists (`OPEN` serialises them), and read only after `set` was seen
// true; the atomics order the accesses.
unsafe impl Sync for Saved {}

static SAVED: Saved = Saved {
    set: AtomicBool::new(false),
    value: UnsafeCell::new(MaybeUninit::uninit()),
};

/// The descriptor of the terminal `SAVED` belongs to, for the handler.
static SAVED_FD: AtomicI32 = AtomicI32::new(libc::STDIN_FILENO);

/// Whether a `Keys` exists: one at a time, so that the settings saved
/// are the terminal's own and not another `Keys`'s.
static OPEN: AtomicBool = AtomicBool::new(false);

impl Keys {
    /// Single keys from stdin, if stdin is a terminal and this process
    /// is in its foreground job; `None` for a pipe, a file, or a job in
    /// the background (changing the terminal would stop it).
    pub fn open() -> Option<Keys> {
        Keys::on(libc::STDIN_FILENO, None)
    }

    /// Single keys from stdin if it is a terminal, else from the
    /// controlling terminal (`/dev/tty`) when stderr shows that a
    /// person watches one; `None` when neither is the foreground job's
    /// terminal. For a program that reads nothing else from stdin.
    pub fn open_terminal() -> Option<Keys> {
        use std::io::IsTerminal;
        if std::io::stdin().is_terminal() {
            return Keys::open();
        }
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let flags = nix::fcntl::OFlag::O_RDWR
            | nix::fcntl::OFlag::O_NOCTTY
            | nix::fcntl::OFlag::O_CLOEXEC;
        let mode = nix::sys::stat::Mode::empty();
        let tty = nix::fcntl::open("/dev/tty", flags, mode).ok()?;
        Keys::on(tty.as_raw_fd(), Some(tty))
    }

    /// Single keys from terminal `fd`, which `tty` owns if it is ours.
    fn on(fd: RawFd, tty: Option<OwnedFd>) -> Option<Keys> {
        // SAFETY: `fd` is stdin, open for the life of the process, or
        // `tty`'s, which lives as long as the Keys made here.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let foreground = tcgetpgrp(borrowed).ok()? == getpgrp();
        if !foreground || OPEN.swap(true, Ordering::SeqCst) {
            return None;
        }
        let Ok(saved) = termios::tcgetattr(borrowed) else {
            OPEN.store(false, Ordering::SeqCst);
            return None;
        };
        let mut raw = saved.clone();
        raw.local_flags &= !(LocalFlags::ICANON
            | LocalFlags::ECHO
            | LocalFlags::ISIG
            | LocalFlags::IEXTEN);
        raw.control_chars[SpecialCharacterIndices::VMIN as usize] = 1;
        raw.control_chars[SpecialCharacterIndices::VTIME as usize] = 0;
        // SAFETY: no Keys exists but this one (OPEN), and `set` is
        // false, so no handler reads the value while we write it.
        unsafe {
            (*SAVED.value.get()).write(libc::termios::from(saved.clone()));
        }
        SAVED_FD.store(fd, Ordering::SeqCst);
        SAVED.set.store(true, Ordering::SeqCst);
        let keys = Keys {
            fd,
            _tty: tty,
            saved,
            raw,
        };
        if keys.enter().is_err() {
            return None; // Dropped: settings put back, OPEN released.
        }
        Some(keys)
    }

    fn terminal(&self) -> BorrowedFd<'_> {
        // SAFETY: stdin lives as long as the process, and `tty`, if
        // the terminal is ours, as long as `self`.
        unsafe { BorrowedFd::borrow_raw(self.fd) }
    }

    fn enter(&self) -> nix::Result<()> {
        termios::tcsetattr(self.terminal(), SetArg::TCSAFLUSH, &self.raw)
    }

    /// The terminal, to poll for a key alongside other descriptors.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.terminal()
    }

    /// Wait for a key and say what it asks for.
    pub fn read(&mut self) -> io::Result<Key> {
        let mut bytes = [0u8; 16];
        let read = loop {
            match nix::unistd::read(self.terminal().as_fd(), &mut bytes) {
                Err(Errno::EINTR) => continue,
                Err(errno) => return Err(errno.into()),
                Ok(read) => break read,
            }
        };
        let Some(&first) = bytes[..read].first() else {
            return Ok(Key::End);
        };
        Ok(match first {
            b'\r' | b'\n' | b' ' => Key::Next,
            b'q' | b'Q' | 0x03 | 0x1c => Key::Stop,
            0x04 => Key::End,
            0x1a => {
                self.suspend();
                Key::Resumed
            }
            _ => Key::Other,
        })
    }

    /// Ctrl-Z: put the terminal back, stop the job as the terminal
    /// would have, and take single keys again once `fg` continues it.
    fn suspend(&self) {
        let terminal = self.terminal();
        let _ = termios::tcsetattr(terminal, SetArg::TCSADRAIN, &self.saved);
        let _ = killpg(getpgrp(), Signal::SIGTSTP);
        // Here once continued.
        let _ = self.enter();
    }
}

impl Drop for Keys {
    fn drop(&mut self) {
        SAVED.set.store(false, Ordering::SeqCst);
        let terminal = self.terminal();
        let _ = termios::tcsetattr(terminal, SetArg::TCSADRAIN, &self.saved);
        OPEN.store(false, Ordering::SeqCst);
        // `tty`, if ours, is closed after this, with the settings back.
    }
}

/// Put the terminal back as [`Keys`] found it, if one is open: for a
/// handler of a signal that ends the process. Async-signal-safe: one
/// atomic swap and tcsetattr(3), an ioctl.
pub fn restore_after_signal() {
    if SAVED.set.swap(false, Ordering::SeqCst) {
        // SAFETY: `set` was true, so `value` holds the settings `open`
        // wrote before setting it; the swap makes this the only reader
        // that acts on them.
        unsafe {
            let saved = (*SAVED.value.get()).as_ptr();
            let fd = SAVED_FD.load(Ordering::SeqCst);
            libc::tcsetattr(fd, libc::TCSADRAIN, saved);
        }
    }
}

//! What the two benchmarks of `just bench` share: rounds that take
//! turns, so that a burst of load elsewhere falls on every contender,
//! and how a figure is set against its target.

use std::time::{Duration, Instant};

/// The median time of each of `fs` over `rounds` rounds after one
/// warm-up, each round calling them in turn.
pub(crate) fn medians<const N: usize>(
    rounds: usize,
    mut fs: [&mut dyn FnMut(); N],
) -> [Duration; N] {
    fs.iter_mut().for_each(|f| f());
    let mut times = [(); N].map(|()| Vec::with_capacity(rounds));
    for _ in 0..rounds {
        for (f, times) in fs.iter_mut().zip(&mut times) {
            let start = Instant::now();
            f();
            times.push(start.elapsed());
        }
    }
    times.map(|mut times| {
        times.sort();
        times[times.len() / 2]
    })
}

pub(crate) fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

/// `target met: <what> (<figure>)`, or `MISSED`, after `indent`.
pub(crate) fn verdict(indent: &str, what: &str, met: bool, figure: &str) {
    let word = if met { "met" } else { "MISSED" };
    println!("{indent}target {word}: {what} ({figure})");
}

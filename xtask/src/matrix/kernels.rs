//! The kernel list (`matrix/kernels.list`): which Debian kernels the
//! matrix boots, one line each, and how a line picks one package.
//!
//! A line is `<suite> <package-glob>`. The glob is matched against every
//! package name of that suite and the newest match wins, so a line keeps
//! tracking the suite's security updates without edits.

use std::cmp::Ordering;

/// One line of the kernel list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KernelSpec {
    /// Debian suite, e.g. `bookworm-security`.
    pub(crate) suite: String,
    /// Package-name glob: `*` matches any run of characters.
    pub(crate) glob: String,
    /// Line number in the list, for error messages.
    pub(crate) line: usize,
}

/// Parses the kernel list. Blank lines and `#` comments are skipped.
pub(crate) fn parse_list(text: &str) -> Result<Vec<KernelSpec>, String> {
    let mut specs = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [suite, glob] = fields[..] else {
            return Err(format!(
                "line {}: expected `<suite> <package-glob>`, got {line:?}",
                i + 1
            ));
        };
        let valid = |s: &str| {
            s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.*_~".contains(c))
        };
        if !valid(suite) || suite.contains('*') || !valid(glob) {
            return Err(format!(
                "line {}: {line:?} has characters that are not in \
                 Debian suite or package names",
                i + 1
            ));
        }
        specs.push(KernelSpec {
            suite: suite.to_owned(),
            glob: glob.to_owned(),
            line: i + 1,
        });
    }
    Ok(specs)
}

/// Whether `name` matches `glob` as a whole (`*` = any run of chars).
pub(crate) fn glob_matches(glob: &str, name: &str) -> bool {
    let mut parts = glob.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        // No `*` at all: the prefix must have been the whole name.
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// The newest of `names` matching `glob`: numbers inside names compare
/// as numbers, so `6.1.0-56` beats `6.1.0-9`.
pub(crate) fn newest_match<'a>(
    glob: &str,
    names: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    names
        .into_iter()
        .filter(|n| glob_matches(glob, n))
        .max_by(|a, b| natural_cmp(a, b))
}

/// Compares strings with digit runs taken as numbers.
pub(crate) fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let da = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let db = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (na, nb) = (trim_zeros(&a[..da]), trim_zeros(&b[..db]));
                let ord = na.len().cmp(&nb.len()).then(na.cmp(nb));
                if ord != Ordering::Equal {
                    return ord;
                }
                (a, b) = (&a[da..], &b[db..]);
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                (a, b) = (&a[1..], &b[1..]);
            }
        }
    }
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|&&c| c == b'0').count();
    &digits[zeros..]
}

/// A short column label for a package: its name without the
/// `linux-image-` / `linux-binary-` prefix.
pub(crate) fn label(package: &str) -> &str {
    package
        .strip_prefix("linux-image-")
        .or_else(|| package.strip_prefix("linux-binary-"))
        .unwrap_or(package)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_comments_and_blanks() {
        let text = "# suite glob\n\nbookworm-security \
                    linux-image-6.1.0-*-cloud-amd64 # 6.1\n";
        let specs = parse_list(text).unwrap();
        assert_eq!(specs.len(), 1);
        assert_eq!(specs[0].suite, "bookworm-security");
        assert_eq!(specs[0].glob, "linux-image-6.1.0-*-cloud-amd64");
        assert_eq!(specs[0].line, 3);
    }

    #[test]
    fn rejects_malformed_lines_with_their_number() {
        let err = parse_list("bookworm\n").unwrap_err();
        assert!(err.starts_with("line 1:"), "{err}");
        let err = parse_list("ok pkg\nbook/worm pkg\n").unwrap_err();
        assert!(err.starts_with("line 2:"), "{err}");
        assert!(parse_list("a b c\n").is_err());
    }

    #[test]
    fn glob_is_anchored_at_both_ends() {
        let g = "linux-image-6.1.0-*-cloud-amd64";
        assert!(glob_matches(g, "linux-image-6.1.0-56-cloud-amd64"));
        assert!(!glob_matches(g, "linux-image-6.1.0-56-cloud-amd64-dbg"));
        assert!(!glob_matches(g, "xlinux-image-6.1.0-56-cloud-amd64"));
        assert!(glob_matches("exact", "exact"));
        assert!(!glob_matches("exact", "exactly"));
        assert!(glob_matches("a*b*c", "aXbYc"));
        assert!(!glob_matches("a*b*c", "aXcYb"));
        // The last part must not overlap the first.
        assert!(!glob_matches("ab*ba", "aba"));
    }

    #[test]
    fn newest_match_compares_numbers_as_numbers() {
        let names = [
            "linux-binary-7.2.12+deb13-cloud-amd64",
            "linux-binary-7.3.4+deb13-cloud-amd64",
            "linux-binary-unsigned-7.9.0+deb13-cloud-amd64",
            "linux-binary-7.10.1+deb13-amd64",
        ];
        let got = newest_match("linux-binary-7.*+deb13-cloud-amd64", names);
        assert_eq!(got, Some("linux-binary-7.3.4+deb13-cloud-amd64"));
        let names = [
            "linux-image-6.1.0-9-cloud-amd64",
            "linux-image-6.1.0-56-cloud-amd64",
        ];
        let got = newest_match("linux-image-6.1.0-*-cloud-amd64", names);
        assert_eq!(got, Some("linux-image-6.1.0-56-cloud-amd64"));
        assert_eq!(newest_match("nothing-*", names), None);
    }

    #[test]
    fn labels_drop_the_package_prefix() {
        assert_eq!(
            label("linux-image-6.1.0-56-cloud-amd64"),
            "6.1.0-56-cloud-amd64"
        );
        assert_eq!(
            label("linux-binary-7.3.4+deb13-cloud-amd64"),
            "7.3.4+deb13-cloud-amd64"
        );
    }
}

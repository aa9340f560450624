//! Where a value sits in a config file, for problems found after parsing (a threshold out
//! of range, an unknown label, a bad webhook URL): the file is read once more as a TOML
//! document with spans, and a problem is reported at the key or value it concerns, so the
//! message names FILE:LINE:COL even when the same text appears earlier in the file.

use std::ops::Range;
use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::ConfigError;

/// One step of a path into the document: a key of a table or an index into an array
/// (an array of tables, `[[webhooks]]`, is indexed like any array).
#[derive(Clone, Copy, Debug)]
pub enum Step<'k> {
    Key(&'k str),
    Index(usize),
}

pub use Step::{Index, Key};

pub struct Locator<'a> {
    path: &'a Path,
    source: &'a str,
    doc: Option<Spanned<DeTable<'a>>>,
}

impl<'a> Locator<'a> {
    pub fn new(path: &'a Path, source: &'a str) -> Locator<'a> {
        Locator {
            path,
            source,
            doc: DeTable::parse(source).ok(),
        }
    }

    /// A problem with the key that `steps` ends on (its name).
    pub fn key_error(&self, steps: &[Step<'_>], message: impl Into<String>) -> ConfigError {
        self.error(self.span(steps, true), message)
    }

    /// A problem with the value at `steps`.
    pub fn value_error(&self, steps: &[Step<'_>], message: impl Into<String>) -> ConfigError {
        self.error(self.span(steps, false), message)
    }

    fn error(&self, span: Option<Range<usize>>, message: impl Into<String>) -> ConfigError {
        match span {
            Some(span) => ConfigError::at_offset(self.path, self.source, span.start, message),
            None => ConfigError::whole_file(self.path, message),
        }
    }

    fn span(&self, steps: &[Step<'_>], want_key: bool) -> Option<Range<usize>> {
        let doc = self.doc.as_ref()?;
        let mut table: Option<&DeTable<'_>> = Some(doc.get_ref());
        let mut array: Option<&[Spanned<DeValue<'_>>]> = None;
        let mut span = None;
        for (i, step) in steps.iter().enumerate() {
            let last = i + 1 == steps.len();
            let value = match *step {
                Key(name) => {
                    let (key, value) = table?.iter().find(|(k, _)| k.get_ref() == name)?;
                    span = Some(if last && want_key {
                        key.span()
                    } else {
                        value.span()
                    });
                    value
                }
                Index(at) => {
                    let value = array?.get(at)?;
                    span = Some(value.span());
                    value
                }
            };
            table = value.get_ref().as_table();
            array = value.get_ref().as_array().map(|a| &a[..]);
        }
        span
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_and_values_not_earlier_text() {
        let source = "# toxic is mentioned here first\n[policy.thresholds]\ntoxic = { hold_at = 2 }\n\n[[webhooks]]\nurl = \"a\"\n[[webhooks]]\nurl = \"ftp://x\"\n";
        let path = Path::new("c.toml");
        let loc = Locator::new(path, source);
        let e = loc.key_error(&[Key("policy"), Key("thresholds"), Key("toxic")], "m");
        assert_eq!((e.line, e.column), (Some(3), Some(1)));
        let e = loc.value_error(&[Key("webhooks"), Index(1), Key("url")], "m");
        assert_eq!((e.line, e.column), (Some(8), Some(7)));
        let e = loc.value_error(&[Key("nothing")], "m");
        assert_eq!(e.line, None);
    }
}

//! Labelled examples from a CSV file with a header row.

use std::path::Path;

use anyhow::{Context, Result, bail};

/// Which columns hold what, and how to read the label.
#[derive(Clone, Debug)]
pub struct Columns {
    pub text: String,
    pub label: String,
    /// Label value that means positive; without it see [`parse_label`].
    pub positive: Option<String>,
    pub group: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    pub text: String,
    pub label: bool,
    pub group: Option<String>,
}

/// Positive when equal to `positive` (if given), else when numeric ≥ 0.5 or `true`.
pub fn parse_label(value: &str, positive: Option<&str>) -> bool {
    let value = value.trim();
    match positive {
        Some(p) => value == p,
        None => value.eq_ignore_ascii_case("true") || value.parse::<f64>().is_ok_and(|v| v >= 0.5),
    }
}

pub fn read_csv(path: &Path, columns: &Columns) -> Result<Vec<Example>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    read(file, columns).with_context(|| format!("reading {}", path.display()))
}

pub fn read(input: impl std::io::Read, columns: &Columns) -> Result<Vec<Example>> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let headers = reader.headers()?.clone();
    let index = |name: &str| -> Result<usize> {
        headers.iter().position(|h| h == name).with_context(|| {
            format!(
                "no column `{name}`; the header has: {}",
                headers.iter().collect::<Vec<_>>().join(", ")
            )
        })
    };
    let text = index(&columns.text)?;
    let label = index(&columns.label)?;
    let group = columns.group.as_deref().map(index).transpose()?;

    let mut examples = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record?;
        let field = |k: usize| -> Result<&str> {
            match record.get(k) {
                Some(v) => Ok(v),
                // Data row i is line i + 2 when no field spans lines; good enough to find it.
                None => bail!("row {} has only {} fields", i + 2, record.len()),
            }
        };
        examples.push(Example {
            text: field(text)?.to_string(),
            label: parse_label(field(label)?, columns.positive.as_deref()),
            group: group.map(field).transpose()?.map(str::to_string),
        });
    }
    Ok(examples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_by_value_number_or_bool() {
        assert!(parse_label("hateful", Some("hateful")));
        assert!(!parse_label("non-hateful", Some("hateful")));
        assert!(parse_label("1", None));
        assert!(parse_label("0.7", None));
        assert!(!parse_label("0.2", None));
        assert!(parse_label("True", None));
        assert!(!parse_label("BAD", None));
    }

    #[test]
    fn reads_named_columns() {
        let data = "id,text,toxic,lang\n1,\"hello, there\",0,en\n2,bad,1,ru\n";
        let columns = Columns {
            text: "text".into(),
            label: "toxic".into(),
            positive: None,
            group: Some("lang".into()),
        };
        let rows = read(data.as_bytes(), &columns).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].text, "hello, there");
        assert!(!rows[0].label && rows[1].label);
        assert_eq!(rows[1].group.as_deref(), Some("ru"));
    }

    #[test]
    fn missing_column_names_the_header() {
        let columns = Columns {
            text: "body".into(),
            label: "toxic".into(),
            positive: None,
            group: None,
        };
        let err = read("text,toxic\nx,1\n".as_bytes(), &columns).unwrap_err();
        assert!(err.to_string().contains("no column `body`"), "{err}");
        assert!(err.to_string().contains("text, toxic"), "{err}");
    }
}

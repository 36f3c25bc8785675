//! Per-field messages for forms and API bodies: every problem of one submission is
//! collected, then reported at once, each next to its field.

use std::collections::BTreeMap;

/// The problems found in one submission, by field name (the form's and the API's field
/// names agree). The first message for a field wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// One problem with one field.
    pub fn one(field: &str, message: impl Into<String>) -> Self {
        let mut f = Self::new();
        f.add(field, message);
        f
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_string())
            .or_insert_with(|| message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    /// `Ok` when nothing was found, else these errors.
    pub fn finish(self) -> Result<(), FieldErrors> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }

    /// The summary shown above the form: how many problems, and each of them.
    pub fn message(&self) -> String {
        format!(
            "请修改以下{}处错误：{}",
            self.0.len(),
            self.0.values().cloned().collect::<Vec<_>>().join("；")
        )
    }

    pub fn into_map(self) -> BTreeMap<String, String> {
        self.0
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_every_field_once_and_summarizes() {
        let mut f = FieldErrors::new();
        assert!(f.clone().finish().is_ok());
        f.add("name", "请填写姓名");
        f.add("name", "姓名最长50个字");
        f.add("phone", "联系电话只能包含数字");
        assert_eq!(f.get("name"), Some("请填写姓名"));
        assert_eq!(f.len(), 2);
        assert_eq!(
            f.message(),
            "请修改以下2处错误：请填写姓名；联系电话只能包含数字"
        );
        // The summary is also what the error prints as, and the map the API returns
        // holds each field's first message under the field's name.
        assert_eq!(f.to_string(), f.message());
        assert_eq!(
            f.clone().into_map(),
            BTreeMap::from([
                ("name".to_string(), "请填写姓名".to_string()),
                ("phone".to_string(), "联系电话只能包含数字".to_string()),
            ])
        );
        assert!(f.finish().is_err());
    }
}

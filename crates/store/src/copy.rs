//! PostgreSQL's bulk path: rows sent with `COPY … FROM STDIN` in COPY's text format.
//!
//! One COPY streams a batch of rows in a single protocol exchange and is parsed by the
//! server without planning or binding a statement: the cheapest way to put many rows into
//! PostgreSQL. The text format is fields separated by tabs, rows ended by newlines, `\N`
//! for NULL, and the four characters that would break that (backslash, tab, newline,
//! carriage return) escaped with a backslash.

use std::io::Write;

use sqlx::PgConnection;

use crate::error::Result;

/// Rows being encoded for one `COPY … FROM STDIN`.
#[derive(Default)]
pub(crate) struct CopyRows {
    buf: Vec<u8>,
    rows: usize,
    /// Whether the next field starts a row (no tab before it).
    at_start: bool,
}

impl CopyRows {
    pub(crate) fn new() -> CopyRows {
        CopyRows {
            buf: Vec::with_capacity(1 << 16),
            rows: 0,
            at_start: true,
        }
    }

    fn sep(&mut self) {
        if !self.at_start {
            self.buf.push(b'\t');
        }
        self.at_start = false;
    }

    /// A text field.
    pub(crate) fn text(&mut self, s: &str) -> &mut Self {
        self.sep();
        for &b in s.as_bytes() {
            match b {
                b'\\' => self.buf.extend_from_slice(b"\\\\"),
                b'\t' => self.buf.extend_from_slice(b"\\t"),
                b'\n' => self.buf.extend_from_slice(b"\\n"),
                b'\r' => self.buf.extend_from_slice(b"\\r"),
                _ => self.buf.push(b),
            }
        }
        self
    }

    /// A text field that may be NULL.
    pub(crate) fn opt(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.text(s),
            None => self.null(),
        }
    }

    pub(crate) fn null(&mut self) -> &mut Self {
        self.sep();
        self.buf.extend_from_slice(b"\\N");
        self
    }

    pub(crate) fn int(&mut self, n: i64) -> &mut Self {
        self.sep();
        let _ = write!(self.buf, "{n}");
        self
    }

    pub(crate) fn opt_int(&mut self, n: Option<i64>) -> &mut Self {
        match n {
            Some(n) => self.int(n),
            None => self.null(),
        }
    }

    pub(crate) fn bool(&mut self, b: bool) -> &mut Self {
        self.sep();
        self.buf.push(if b { b't' } else { b'f' });
        self
    }

    /// Ends the row.
    pub(crate) fn end(&mut self) {
        self.buf.push(b'\n');
        self.rows += 1;
        self.at_start = true;
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Sends the rows with `statement` (`COPY table (columns) FROM STDIN`); returns how many
    /// the server took.
    pub(crate) async fn send(self, conn: &mut PgConnection, statement: &str) -> Result<u64> {
        if self.rows == 0 {
            return Ok(0);
        }
        let mut copy = conn.copy_in_raw(statement).await?;
        // Chunks of a few megabytes keep the client's buffers and the server's reads even.
        for chunk in self.buf.chunks(4 << 20) {
            if let Err(e) = copy.send(chunk).await {
                let _ = copy.abort("导入中止").await;
                return Err(e.into());
            }
        }
        Ok(copy.finish().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_escaped_and_rows_ended() {
        let mut c = CopyRows::new();
        c.text("a\tb\\c\nd\re").null().int(-42).bool(true);
        c.end();
        c.opt(None)
            .opt(Some("张三"))
            .opt_int(Some(7))
            .opt_int(None)
            .bool(false);
        c.end();
        assert_eq!(
            String::from_utf8(c.buf.clone()).unwrap(),
            "a\\tb\\\\c\\nd\\re\t\\N\t-42\tt\n\\N\t张三\t7\t\\N\tf\n"
        );
        assert_eq!(c.rows, 2);
        assert!(!c.is_empty());
        assert!(CopyRows::new().is_empty());
    }
}

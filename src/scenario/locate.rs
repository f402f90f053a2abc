//! Finds where a JSON path's value starts in a scenario's text, so that errors found after
//! parsing (references, ranges, cycles) still name a line and column.
//!
//! The text has already been parsed successfully by serde_json, so this scanner can be small:
//! it only walks valid JSON.

use super::error::Seg;

struct Scanner<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while self.pos < self.b.len() && self.b[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    /// Reads a string starting at `"` and returns its contents, unescaped for the common cases.
    fn string(&mut self) -> String {
        let mut out = Vec::new();
        self.pos += 1;
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    if let Some(e) = self.peek() {
                        self.pos += 1;
                        out.push(match e {
                            b'n' => b'\n',
                            b't' => b'\t',
                            b'r' => b'\r',
                            b'b' => 8,
                            b'f' => 12,
                            b'u' => {
                                self.pos += 4;
                                b'?'
                            }
                            other => other,
                        });
                    }
                }
                other => out.push(other),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Moves past one value. Always moves (unless at the end), whatever the bytes: the text may
    /// be broken JSON whose error is being located, and a mismatched bracket must not stop it.
    fn skip_value(&mut self) {
        self.ws();
        let start = self.pos;
        self.skip_value_from_here();
        if self.pos == start && self.pos < self.b.len() {
            self.pos += 1;
        }
    }

    fn skip_value_from_here(&mut self) {
        match self.peek() {
            Some(b'"') => {
                self.string();
            }
            Some(open @ (b'{' | b'[')) => {
                let close = if open == b'{' { b'}' } else { b']' };
                self.pos += 1;
                loop {
                    self.ws();
                    match self.peek() {
                        None => return,
                        Some(c) if c == close => {
                            self.pos += 1;
                            return;
                        }
                        Some(b',') => self.pos += 1,
                        Some(b'"') if open == b'{' => {
                            self.string();
                            self.ws();
                            self.pos += 1; // ':'
                            self.skip_value();
                        }
                        _ => self.skip_value(),
                    }
                }
            }
            _ => {
                while let Some(c) = self.peek() {
                    if matches!(c, b',' | b'}' | b']') || c.is_ascii_whitespace() {
                        break;
                    }
                    self.pos += 1;
                }
            }
        }
    }

    /// With `pos` at a container, moves to the value of `seg` inside it; false if absent.
    fn enter(&mut self, seg: &Seg) -> bool {
        self.ws();
        let start = self.pos;
        match (self.peek(), seg) {
            (Some(b'{'), Seg::Key(key)) => {
                self.pos += 1;
                loop {
                    self.ws();
                    match self.peek() {
                        Some(b'"') => {
                            let k = self.string();
                            self.ws();
                            self.pos += 1; // ':'
                            self.ws();
                            if &k == key {
                                return true;
                            }
                            self.skip_value();
                        }
                        Some(b',') => self.pos += 1,
                        _ => break,
                    }
                }
            }
            (Some(b'['), Seg::Index(index)) => {
                self.pos += 1;
                let mut n = 0;
                loop {
                    self.ws();
                    match self.peek() {
                        Some(b']') | None => break,
                        Some(b',') => self.pos += 1,
                        _ => {
                            if n == *index {
                                return true;
                            }
                            self.skip_value();
                            n += 1;
                        }
                    }
                }
            }
            _ => {}
        }
        self.pos = start;
        false
    }
}

/// The 1-based line and column where the value at `path` starts, or where the deepest part of
/// the path that exists starts (for a missing field: its parent object).
pub(crate) fn locate(text: &str, path: &[Seg]) -> (usize, usize) {
    let mut s = Scanner { b: text.as_bytes(), pos: 0 };
    s.ws();
    for seg in path {
        if !s.enter(seg) {
            break;
        }
    }
    let before = &text[..s.pos.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_values_and_falls_back_to_the_parent() {
        let text = "{\n  \"a\": {\"x\": [1, {\"y\": \"s,]\"}, 3]},\n  \"b\": [\n    10,\n    20\n  ]\n}";
        let k = |s: &str| Seg::Key(s.into());
        assert_eq!(locate(text, &[k("b"), Seg::Index(1)]), (5, 5));
        assert_eq!(locate(text, &[k("a"), k("x"), Seg::Index(2)]), (2, 32));
        assert_eq!(locate(text, &[k("a"), k("x"), Seg::Index(1), k("y")]), (2, 24));
        assert_eq!(locate(text, &[k("a"), k("missing")]), (2, 8));
    }

    #[test]
    fn broken_json_with_mismatched_brackets_is_still_scanned_to_its_end() {
        // Found by fuzzing: a `]` inside an object (or `}` inside a list) stopped the scan from
        // moving, and locating an error in such a file never returned.
        let k = |s: &str| Seg::Key(s.into());
        let text = "{ \"a\": { \"b\": ] }, \"c\": [ } ], \"expect\": { \"x\": 1 } }";
        assert_eq!(locate(text, &[k("expect"), k("x")]), (1, 49));
        assert_eq!(locate(text, &[k("c"), Seg::Index(3)]), (1, 25), "the list that holds no such index");
    }
}

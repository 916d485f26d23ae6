//! Lenient reading of `lshw -json` text.
//!
//! Real lshw files are not always one valid JSON document:
//! - lshw B.02.18 with `-class` prints several top-level objects one after
//!   another, separated by nothing, whitespace or commas;
//! - some versions wrap the output in a top-level array `[ {...} ]`;
//! - some versions leave a comma before `]` or `}` and print blank lines;
//! - one known lshw bug drops every `"children" : [` opener and the matching
//!   `]`, so a child object follows its parent's last field with no comma,
//!   and the root object's closing `}` is missing at the end of the file.
//!
//! The reader first tries strict JSON. When that fails it reads the tokens
//! again with a stack machine that accepts the quirks above. It rebuilds the
//! dropped `children` arrays from the tokens present and guesses nothing
//! else. A `{` right after a field value, where valid JSON needs `,` or `}`,
//! opens the children array. The next `}` found where an element should
//! start closes it. Strings and scalars are decoded by `serde_json`.

use serde_json::{Map, Value};

use crate::EvidenceError;

/// Nesting limit, the same as `serde_json`'s, so the tree walk stays shallow.
const MAX_DEPTH: usize = 128;

/// Top-level values of an lshw file, with whether the dropped `children`
/// arrays had to be restored.
pub(super) struct Document {
    pub values: Vec<Value>,
    pub restored_children: bool,
}

/// Reads every top-level JSON value of `text`, strictly when it is valid
/// JSON and leniently otherwise.
pub(super) fn read_document(text: &str) -> Result<Document, EvidenceError> {
    if text.trim().is_empty() {
        return Err(EvidenceError::new("file", "the file is empty")
            .with_kind(crate::EvidenceErrorKind::Empty));
    }
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        return Ok(Document {
            values: vec![value],
            restored_children: false,
        });
    }
    Reader::new(text).run()
}

enum Token<'a> {
    Punct(char),
    Text(&'a str),
    Scalar(&'a str),
}

enum Frame {
    Object {
        map: Map<String, Value>,
        key: Option<String>,
        state: ObjectState,
    },
    Array {
        items: Vec<Value>,
        restored: bool,
        state: ArrayState,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ObjectState {
    KeyOrEnd,
    Colon,
    Value,
    CommaOrEnd,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ArrayState {
    ValueOrEnd,
    CommaOrEnd,
}

struct Reader<'a> {
    text: &'a str,
    offset: usize,
    line: usize,
    column: usize,
    stack: Vec<Frame>,
    values: Vec<Value>,
    restored_children: bool,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            offset: 0,
            line: 1,
            column: 1,
            stack: Vec::new(),
            values: Vec::new(),
            restored_children: false,
        }
    }

    fn run(mut self) -> Result<Document, EvidenceError> {
        while let Some((token, line, column)) = self.next_token()? {
            self.accept(token)
                .map_err(|reason| self.error_at(line, column, &reason))?;
        }
        self.finish()?;
        Ok(Document {
            values: self.values,
            restored_children: self.restored_children,
        })
    }

    fn error_at(&self, line: usize, column: usize, reason: &str) -> EvidenceError {
        let mut message = format!("invalid JSON: {reason}");
        if self.restored_children {
            message.push_str(
                ". The file also shows the lshw bug that drops every \"children\" : [ \
                 opener, and it could not be repaired",
            );
        }
        message.push_str(
            ". Re-run `lshw -json` with a current lshw release (without -sanitize, \
             which removes the serial numbers) and import the new file",
        );
        EvidenceError::new(format!("line {line}, column {column}"), message)
            .with_kind(crate::EvidenceErrorKind::InvalidJson)
    }

    /// Moves past one character, keeping line and column up to date.
    fn bump(&mut self, c: char) {
        self.offset += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
    }

    fn next_token(&mut self) -> Result<Option<(Token<'a>, usize, usize)>, EvidenceError> {
        let text = self.text;
        while let Some(c) = text[self.offset..].chars().next() {
            if c.is_whitespace() || c == '\u{feff}' {
                self.bump(c);
                continue;
            }
            let (line, column, start) = (self.line, self.column, self.offset);
            let token = match c {
                '{' | '}' | '[' | ']' | ':' | ',' => {
                    self.bump(c);
                    Token::Punct(c)
                }
                '"' => Token::Text(self.scan_string(start, line, column)?),
                c if c.is_ascii_alphanumeric() || c == '-' => {
                    Token::Scalar(self.scan_scalar(start))
                }
                other => {
                    let reason = format!("unexpected character {other:?}");
                    return Err(self.error_at(line, column, &reason));
                }
            };
            return Ok(Some((token, line, column)));
        }
        Ok(None)
    }

    fn scan_string(
        &mut self,
        start: usize,
        line: usize,
        column: usize,
    ) -> Result<&'a str, EvidenceError> {
        let text = self.text;
        self.bump('"');
        let mut escaped = false;
        while let Some(c) = text[self.offset..].chars().next() {
            self.bump(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => return Ok(&text[start..self.offset]),
                _ => {}
            }
        }
        Err(self.error_at(
            line,
            column,
            "a string is not closed before the end of the file",
        ))
    }

    fn scan_scalar(&mut self, start: usize) -> &'a str {
        let text = self.text;
        while let Some(c) = text[self.offset..].chars().next() {
            if !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) {
                break;
            }
            self.bump(c);
        }
        &text[start..self.offset]
    }
}

impl Reader<'_> {
    /// Feeds one token to the stack machine. The error is the reason alone,
    /// because the caller adds the position.
    fn accept(&mut self, token: Token<'_>) -> Result<(), String> {
        match self.stack.last_mut() {
            None => self.accept_top_level(token),
            Some(Frame::Object { .. }) => self.accept_in_object(token),
            Some(Frame::Array { .. }) => self.accept_in_array(token),
        }
    }

    /// Top level: values one after another, with or without commas.
    fn accept_top_level(&mut self, token: Token<'_>) -> Result<(), String> {
        match token {
            Token::Punct(',') => Ok(()),
            Token::Punct(c @ ('}' | ']' | ':')) => {
                Err(format!("unexpected '{c}' at the top level"))
            }
            other => self.begin_value(other),
        }
    }

    fn accept_in_object(&mut self, token: Token<'_>) -> Result<(), String> {
        let Some(Frame::Object { key, state, .. }) = self.stack.last_mut() else {
            return Err("internal state lost".to_string());
        };
        match (*state, token) {
            (ObjectState::KeyOrEnd, Token::Text(raw)) => {
                *key = Some(decode_string(raw)?);
                *state = ObjectState::Colon;
                Ok(())
            }
            // `}` right after `{` or after a trailing comma.
            (ObjectState::KeyOrEnd | ObjectState::CommaOrEnd, Token::Punct('}')) => self.close(),
            (ObjectState::Colon, Token::Punct(':')) => {
                *state = ObjectState::Value;
                Ok(())
            }
            (ObjectState::Value, value) => self.begin_value(value),
            (ObjectState::CommaOrEnd, Token::Punct(',')) => {
                *state = ObjectState::KeyOrEnd;
                Ok(())
            }
            (ObjectState::CommaOrEnd, Token::Punct('{')) => self.restore_children(),
            (ObjectState::KeyOrEnd, other) => {
                Err(format!("expected a field name, found {}", describe(&other)))
            }
            (ObjectState::Colon, other) => Err(format!("expected ':', found {}", describe(&other))),
            (ObjectState::CommaOrEnd, other) => Err(format!(
                "expected ',' or '}}' after a field, found {}",
                describe(&other)
            )),
        }
    }

    fn accept_in_array(&mut self, token: Token<'_>) -> Result<(), String> {
        let Some(Frame::Array {
            restored, state, ..
        }) = self.stack.last_mut()
        else {
            return Err("internal state lost".to_string());
        };
        let restored = *restored;
        match (*state, token) {
            // `]` right after `[` or after a trailing comma.
            (_, Token::Punct(']')) => self.close(),
            // A restored children array ends where its parent object ends.
            (_, Token::Punct('}')) if restored => {
                self.close()?;
                self.accept(Token::Punct('}'))
            }
            (ArrayState::CommaOrEnd, Token::Punct(',')) => {
                *state = ArrayState::ValueOrEnd;
                Ok(())
            }
            (ArrayState::ValueOrEnd, Token::Punct(c @ (',' | ':' | '}'))) => {
                Err(format!("expected a value or ']', found '{c}'"))
            }
            (ArrayState::ValueOrEnd, value) => self.begin_value(value),
            (ArrayState::CommaOrEnd, other) => Err(format!(
                "expected ',' or ']' after a value, found {}",
                describe(&other)
            )),
        }
    }

    /// Opens the `children` array that the lshw bug dropped, then reads the
    /// `{` as its first element.
    fn restore_children(&mut self) -> Result<(), String> {
        if let Some(Frame::Object { key, state, .. }) = self.stack.last_mut() {
            *key = Some("children".to_string());
            *state = ObjectState::Value;
        }
        self.restored_children = true;
        self.push(Frame::Array {
            items: Vec::new(),
            restored: true,
            state: ArrayState::ValueOrEnd,
        })?;
        self.begin_value(Token::Punct('{'))
    }

    fn begin_value(&mut self, token: Token<'_>) -> Result<(), String> {
        match token {
            Token::Punct('{') => self.push(Frame::Object {
                map: Map::new(),
                key: None,
                state: ObjectState::KeyOrEnd,
            }),
            Token::Punct('[') => self.push(Frame::Array {
                items: Vec::new(),
                restored: false,
                state: ArrayState::ValueOrEnd,
            }),
            Token::Text(raw) => self.attach(Value::String(decode_string(raw)?)),
            Token::Scalar(raw) => self.attach(decode_scalar(raw)?),
            Token::Punct(c) => Err(format!("expected a value, found '{c}'")),
        }
    }

    fn push(&mut self, frame: Frame) -> Result<(), String> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(format!("nesting is deeper than {MAX_DEPTH} levels"));
        }
        self.stack.push(frame);
        Ok(())
    }

    /// Closes the innermost container and attaches it to its parent.
    fn close(&mut self) -> Result<(), String> {
        let value = match self.stack.pop() {
            Some(Frame::Object { map, .. }) => Value::Object(map),
            Some(Frame::Array { items, .. }) => Value::Array(items),
            None => return Err("unexpected closing bracket".to_string()),
        };
        self.attach(value)
    }

    fn attach(&mut self, value: Value) -> Result<(), String> {
        match self.stack.last_mut() {
            None => self.values.push(value),
            Some(Frame::Object { map, key, state }) => {
                let name = key.take().unwrap_or_default();
                map.insert(name, value);
                *state = ObjectState::CommaOrEnd;
            }
            Some(Frame::Array { items, state, .. }) => {
                items.push(value);
                *state = ArrayState::CommaOrEnd;
            }
        }
        Ok(())
    }

    /// Handles the end of the file. Containers left open are closed only
    /// when the file has the dropped-children bug, which also drops the
    /// root's closing brace, and only where no field is cut in half.
    fn finish(&mut self) -> Result<(), EvidenceError> {
        while let Some(frame) = self.stack.last() {
            let complete = match frame {
                Frame::Object { state, .. } => {
                    matches!(state, ObjectState::KeyOrEnd | ObjectState::CommaOrEnd)
                }
                Frame::Array { .. } => true,
            };
            if !(self.restored_children && complete) {
                let reason = "the file ends before every object and array is closed";
                return Err(self.error_at(self.line, self.column, reason));
            }
            self.close()
                .map_err(|reason| self.error_at(self.line, self.column, &reason))?;
        }
        Ok(())
    }
}

fn decode_string(raw: &str) -> Result<String, String> {
    serde_json::from_str::<String>(raw).map_err(|error| format!("invalid string {raw}: {error}"))
}

fn decode_scalar(raw: &str) -> Result<Value, String> {
    match serde_json::from_str::<Value>(raw) {
        Ok(value @ (Value::Number(_) | Value::Bool(_) | Value::Null)) => Ok(value),
        _ => Err(format!("expected a value, found {raw:?}")),
    }
}

fn describe(token: &Token<'_>) -> String {
    match token {
        Token::Punct(c) => format!("'{c}'"),
        Token::Text(raw) => format!("the string {raw}"),
        Token::Scalar(raw) => format!("{raw:?}"),
    }
}

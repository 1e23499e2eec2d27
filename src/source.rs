//! Reading input files (rules, scenarios) into text with clear errors, and naming positions.

use std::fs;
use std::io::ErrorKind;
use std::path::Path;

use crate::yaml::Pos;

/// Read a UTF-8 text file; errors say what is wrong in one lowercase line.
pub fn read_text(path: &Path) -> Result<String, String> {
    let bytes = fs::read(path).map_err(|e| match e.kind() {
        ErrorKind::NotFound => "no such file".to_string(),
        ErrorKind::IsADirectory => "is a directory, not a file".to_string(),
        _ if path.is_dir() => "is a directory, not a file".to_string(),
        _ => format!("cannot read: {e}"),
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|b| **b == b'\n').count() + 1;
        format!("line {line}: not valid UTF-8 (byte offset {at})")
    })
}

/// `file:line:column`, or just `file` when the position is unknown.
pub fn at(file: &Path, pos: Option<Pos>) -> String {
    match pos {
        Some(p) => format!("{}:{}:{}", file.display(), p.line, p.column),
        None => file.display().to_string(),
    }
}

//! The field checks every request body goes through before it reaches the database: a
//! clear 4xx naming the field instead of a constraint error (and Postgres text cannot
//! hold a NUL byte at all).

/// Why an input was refused; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// Checks a text field: no NUL byte, length within `min..=max` characters.
pub fn check_text(field: &str, value: &str, min: usize, max: usize) -> Result<(), Invalid> {
    if value.contains('\0') {
        return Err(Invalid(format!("{field} must not contain a NUL byte")));
    }
    let len = value.chars().count();
    if len < min {
        return Err(Invalid(format!("{field} must not be empty")));
    }
    if len > max {
        return Err(Invalid(format!("{field} is longer than {max} characters")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_byte_is_refused_with_the_field_name() {
        let err = check_text("text", "a\0b", 0, 10).unwrap_err();
        assert!(err.0.contains("text") && err.0.contains("NUL"));
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert!(check_text("t", "ééé", 0, 3).is_ok());
        assert!(check_text("t", "éééé", 0, 3).is_err());
        assert!(check_text("t", "", 1, 3).is_err());
    }
}

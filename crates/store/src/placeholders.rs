//! Bind-parameter placeholders for statements with many values, such as
//! multi-row INSERTs and `IN (...)` lists.
//!
//! PostgreSQL needs numbered placeholders (`$1`). SQLite gets anonymous ones
//! (`?`), because sqlx 0.8 looks up the name of every numbered parameter
//! with `sqlite3_bind_parameter_name`, which scans SQLite's list of
//! parameter names: binding n numbered values costs time in n², and a
//! 1,000-row INSERT of 15 columns spent most of its time there. Anonymous
//! parameters have no name to look up and are bound in order.

use crate::connect::Backend;

/// `count` placeholders separated by commas, numbered from `first` on
/// PostgreSQL.
pub fn list(backend: Backend, first: usize, count: usize) -> String {
    let mut sql = String::with_capacity(count * 6);
    for n in first..first + count {
        if n > first {
            sql.push_str(", ");
        }
        match backend {
            Backend::Sqlite => sql.push('?'),
            Backend::Postgres => {
                sql.push('$');
                sql.push_str(&n.to_string());
            }
        }
    }
    sql
}

/// `rows` parenthesised groups of `width` placeholders, numbered from 1 on
/// PostgreSQL: the VALUES part of a multi-row INSERT.
pub fn value_groups(backend: Backend, rows: usize, width: usize) -> String {
    let mut sql = String::with_capacity(rows * (width * 6 + 4));
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        sql.push_str(&list(backend, row * width + 1, width));
        sql.push(')');
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_per_backend() {
        assert_eq!(
            value_groups(Backend::Postgres, 2, 3),
            "($1, $2, $3), ($4, $5, $6)"
        );
        assert_eq!(value_groups(Backend::Sqlite, 2, 2), "(?, ?), (?, ?)");
        assert_eq!(list(Backend::Postgres, 2, 3), "$2, $3, $4");
        assert_eq!(list(Backend::Sqlite, 2, 3), "?, ?, ?");
    }
}

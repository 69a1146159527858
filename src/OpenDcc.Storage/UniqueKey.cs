using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace OpenDcc.Storage;

/// <summary>
/// One unique key (or primary key) of a table, so that a failed write is read as a clash on that key only: SQLite's
/// SQLITE_CONSTRAINT and PostgreSQL's unique_violation are also what any other key, a NOT NULL, a CHECK or a foreign key
/// give, and those are faults of their own, not the clash.
/// </summary>
/// <param name="Table">The table.</param>
/// <param name="Columns">The key's columns in the schema's order: SQLite names the key only by them ("UNIQUE constraint failed: t.a, t.b").</param>
/// <param name="PostgresConstraint">PostgreSQL's name for the key (by default <c>t_pkey</c>, or <c>t_a_b_key</c> for UNIQUE (a, b)).</param>
internal sealed record UniqueKey(string Table, IReadOnlyList<string> Columns, string PostgresConstraint)
{
    /// <summary>Whether SQLite failed a write for a row clashing on this key (a primary or unique key; not NOT NULL, CHECK, a foreign key, or another key).</summary>
    public bool IsViolatedBy(SqliteException e) =>
        e is { SqliteErrorCode: SQLitePCL.raw.SQLITE_CONSTRAINT, SqliteExtendedErrorCode: SQLitePCL.raw.SQLITE_CONSTRAINT_PRIMARYKEY or SQLitePCL.raw.SQLITE_CONSTRAINT_UNIQUE }
        && e.Message.Contains($"constraint failed: {string.Join(", ", Columns.Select(c => $"{Table}.{c}"))}'", StringComparison.Ordinal);

    /// <summary>Whether PostgreSQL failed a write for a row clashing on this key (unique_violation, 23505, on this constraint).</summary>
    public bool IsViolatedBy(PostgresException e) =>
        e is { SqlState: PostgresErrorCodes.UniqueViolation } && e.TableName == Table && e.ConstraintName == PostgresConstraint;

    /// <summary>Whether <paramref name="e"/>, from either engine, is a clash on this key.</summary>
    public bool IsViolatedBy(DbException e) => e switch
    {
        SqliteException sqlite => IsViolatedBy(sqlite),
        PostgresException postgres => IsViolatedBy(postgres),
        _ => false,
    };
}

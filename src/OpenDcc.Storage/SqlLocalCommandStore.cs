using System.Data.Common;
using NodaTime;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;

namespace OpenDcc.Storage;

/// <summary>The commands given for local delivery, in plain SQL that SQLite and PostgreSQL both speak.</summary>
internal sealed class SqlLocalCommandStore(Func<CancellationToken, Task<DbConnection>> open) : ILocalCommandStore
{
    public async Task RecordAsync(LocalCommand command, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        await using var connection = await open(cancellationToken);
        await using var insert = connection.Command(
                "INSERT INTO local_command (request_id, service_reference_variant, body, signed_pre_command, command, issued_at) VALUES (@r, @srv, @b, @s, @c, @at) " +
                "ON CONFLICT (request_id) DO UPDATE SET service_reference_variant = excluded.service_reference_variant, body = excluded.body, " +
                "signed_pre_command = excluded.signed_pre_command, command = excluded.command, issued_at = excluded.issued_at " +
                "WHERE local_command.returned_at IS NULL")
            .With("@r", command.RequestId.ToString()).With("@srv", command.ServiceReferenceVariant).With("@b", command.Body)
            .With("@s", command.SignedPreCommand).With("@c", command.Command).With("@at", command.IssuedAt.ToUnixTimeTicks());
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<LocalCommand?> FindAsync(RequestId requestId, CancellationToken cancellationToken = default) =>
        (await ReadAsync("WHERE request_id = @r", [("@r", requestId.ToString())], cancellationToken)).SingleOrDefault();

    // Waiting: no logged 8.13 has brought its answer back (none has, or one whose request was never logged).
    public Task<IReadOnlyList<LocalCommand>> ListWaitingAsync(Instant issuedSince, int max, CancellationToken cancellationToken = default) =>
        max > 0
            ? ReadAsync($"WHERE return_logged = 0 AND issued_at >= @since ORDER BY issued_at, request_id LIMIT {max}", [("@since", issuedSince.ToUnixTimeTicks())], cancellationToken)
            : throw new ArgumentOutOfRangeException(nameof(max), max, "list at least one command");

    public async Task<long> CountWaitingAsync(Instant issuedSince, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var count = connection.Command("SELECT COUNT(*) FROM local_command WHERE return_logged = 0 AND issued_at >= @since").With("@since", issuedSince.ToUnixTimeTicks());
        return Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<IReadOnlyList<LocalCommand>> ReadAsync(string where, (string Name, object Value)[] parameters, CancellationToken cancellationToken)
    {
        await using var connection = await open(cancellationToken);
        await using var select = connection.Command(
            "SELECT request_id, service_reference_variant, body, signed_pre_command, command, issued_at, returned_at, returned_by, return_logged FROM local_command " + where);
        foreach (var (name, value) in parameters)
        {
            select.With(name, value);
        }
        return await select.ReadAllAsync(
            reader => new LocalCommand(RequestId.Parse(reader.GetString(0)), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : (byte[])reader.GetValue(3), (byte[])reader.GetValue(4), Instant.FromUnixTimeTicks(reader.GetInt64(5)))
            {
                ReturnedAt = reader.IsDBNull(6) ? null : Instant.FromUnixTimeTicks(reader.GetInt64(6)),
                ReturnedBy = reader.IsDBNull(7) ? null : RequestId.Parse(reader.GetString(7)),
                ReturnLogged = Convert.ToInt64(reader.GetValue(8), System.Globalization.CultureInfo.InvariantCulture) != 0,
            },
            cancellationToken);
    }

    public async Task<bool> MarkReturnedAsync(RequestId requestId, RequestId returnedBy, Instant at, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        // The same 8.13 again keeps its mark as it was, logged or not (a log whose commit was reported failed may have
        // made it); another takes a mark only while none is logged and the one there is held no longer.
        await using var update = connection.Command(
                "UPDATE local_command SET returned_at = @at, returned_by = @by, return_logged = CASE WHEN returned_by = @by THEN return_logged ELSE 0 END " +
                "WHERE request_id = @r AND (returned_by = @by OR (return_logged = 0 AND (returned_at IS NULL OR returned_at <= @held)))")
            .With("@at", at.ToUnixTimeTicks()).With("@by", returnedBy.ToString()).With("@r", requestId.ToString())
            .With("@held", (at - LocalCommands.UnloggedReturnHeldFor).ToUnixTimeTicks());
        return await update.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task UnmarkReturnedAsync(RequestId requestId, RequestId returnedBy, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var update = connection.Command("UPDATE local_command SET returned_at = NULL, returned_by = NULL WHERE request_id = @r AND returned_by = @by AND return_logged = 0")
            .With("@r", requestId.ToString()).With("@by", returnedBy.ToString());
        await update.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// In the message log's transaction: the marks of the accepted 8.13s among <paramref name="records"/> made final
    /// (<see cref="MessageLogRecord.Returns"/>), each only if that 8.13 still holds it.
    /// </summary>
    internal static async Task ConfirmReturnsAsync(AppendWrites writes, IReadOnlyList<MessageLogRecord> records, CancellationToken cancellationToken)
    {
        foreach (var returns in records.Select(r => r.Returns).OfType<LocalReturn>())
        {
            await writes.RunAsync("UPDATE local_command SET return_logged = 1 WHERE request_id = @r AND returned_by = @by", cancellationToken,
                ("@r", returns.Command.ToString()), ("@by", returns.ReturnedBy.ToString()));
        }
    }

    public async Task ForgetAsync(RequestId requestId, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var delete = connection.Command("DELETE FROM local_command WHERE request_id = @r AND returned_at IS NULL").With("@r", requestId.ToString());
        await delete.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<int> ForgetIssuedBeforeAsync(Instant issuedBefore, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var delete = connection.Command("DELETE FROM local_command WHERE issued_at < @before").With("@before", issuedBefore.ToUnixTimeTicks());
        return await delete.ExecuteNonQueryAsync(cancellationToken);
    }
}

using System.Data.Common;
using NodaTime;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;

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

    public async Task<LocalCommand?> FindAsync(RequestId requestId, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var select = connection.Command(
                "SELECT service_reference_variant, body, signed_pre_command, command, issued_at, returned_at FROM local_command WHERE request_id = @r")
            .With("@r", requestId.ToString());
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        return new LocalCommand(requestId, reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : (byte[])reader.GetValue(2), (byte[])reader.GetValue(3), Instant.FromUnixTimeTicks(reader.GetInt64(4)))
        {
            ReturnedAt = reader.IsDBNull(5) ? null : Instant.FromUnixTimeTicks(reader.GetInt64(5)),
        };
    }

    public async Task<bool> MarkReturnedAsync(RequestId requestId, Instant at, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var update = connection.Command("UPDATE local_command SET returned_at = @at WHERE request_id = @r AND returned_at IS NULL")
            .With("@at", at.ToUnixTimeTicks()).With("@r", requestId.ToString());
        return await update.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task UnmarkReturnedAsync(RequestId requestId, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var update = connection.Command("UPDATE local_command SET returned_at = NULL WHERE request_id = @r").With("@r", requestId.ToString());
        await update.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<int> ForgetIssuedBeforeAsync(Instant issuedBefore, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var delete = connection.Command("DELETE FROM local_command WHERE issued_at < @before").With("@before", issuedBefore.ToUnixTimeTicks());
        return await delete.ExecuteNonQueryAsync(cancellationToken);
    }
}

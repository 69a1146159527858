using System.Data.Common;
using NodaTime;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;

namespace OpenDcc.Storage;

/// <summary>
/// The acknowledged device commands not yet answered. Written only in the transactions of others: the message log's
/// append that logs their request (<see cref="MessageLogRecord.Acknowledges"/>) adds them, and the append or delivery
/// queueing that hands on their outcome (<see cref="MessageLogRecord.Answers"/>, <see cref="SqlDeliveryStore"/>) removes them.
/// </summary>
internal sealed class SqlUnansweredCommandStore(Func<CancellationToken, Task<DbConnection>> open) : IUnansweredCommandStore
{
    public async Task<IReadOnlyList<UnansweredCommand>> ListAsync(int? max = null, CancellationToken cancellationToken = default)
    {
        if (max is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(max), max, "list at least one command");
        }
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command(
            "SELECT request_id, device, user_id, service_reference, service_reference_variant, schema_version, acknowledged_at " +
            "FROM unanswered_command ORDER BY acknowledged_at, request_id, device" + (max is { } most ? $" LIMIT {most}" : ""));
        return await command.ReadAllAsync(
            reader => new UnansweredCommand(
                new DeviceRequestReference(RequestId.Parse(reader.GetString(0)), reader.GetString(3), reader.GetString(4), reader.GetString(5), Eui64.Parse(reader.GetString(1))),
                Eui64.Parse(reader.GetString(2)),
                Instant.FromUnixTimeTicks(reader.GetInt64(6))),
            cancellationToken);
    }

    public async Task<long> CountAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command("SELECT COUNT(*) FROM unanswered_command");
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    private const string Insert =
        "INSERT INTO unanswered_command (request_id, device, user_id, service_reference, service_reference_variant, schema_version, acknowledged_at) " +
        "VALUES (@r, @d, @u, @sr, @srv, @v, @at) ON CONFLICT (request_id, device) DO NOTHING";

    private const string Delete = "DELETE FROM unanswered_command WHERE request_id = @r AND device = @d";

    /// <summary>
    /// Records the commands <paramref name="records"/> acknowledge and clears those they answer, in their order, in
    /// <paramref name="transaction"/>: one command of each kind, prepared once for the lot.
    /// </summary>
    internal static async Task ApplyAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<MessageLogRecord> records, CancellationToken cancellationToken)
    {
        DbCommand? add = null, clear = null;
        try
        {
            foreach (var record in records)
            {
                foreach (var acknowledged in record.Acknowledges ?? [])
                {
                    var reference = acknowledged.Request;
                    add ??= connection.Command(Insert, transaction).With("@r", null).With("@d", null).With("@u", null).With("@sr", null).With("@srv", null).With("@v", null).With("@at", null);
                    add.Parameters[0].Value = reference.RequestId.ToString();
                    add.Parameters[1].Value = reference.Device.ToString();
                    add.Parameters[2].Value = acknowledged.User.ToString();
                    add.Parameters[3].Value = reference.ServiceReference;
                    add.Parameters[4].Value = reference.ServiceReferenceVariant;
                    add.Parameters[5].Value = reference.SchemaVersion;
                    add.Parameters[6].Value = acknowledged.AcknowledgedAt.ToUnixTimeTicks();
                    await add.ExecuteNonQueryAsync(cancellationToken);
                }
                if (record.Answers is { } answered)
                {
                    clear ??= connection.Command(Delete, transaction).With("@r", null).With("@d", null);
                    clear.Parameters[0].Value = answered.RequestId.ToString();
                    clear.Parameters[1].Value = answered.Device.ToString();
                    await clear.ExecuteNonQueryAsync(cancellationToken);
                }
            }
        }
        finally
        {
            if (add is not null)
            {
                await add.DisposeAsync();
            }
            if (clear is not null)
            {
                await clear.DisposeAsync();
            }
        }
    }
}

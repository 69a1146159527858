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
    /// Records the commands <paramref name="records"/> acknowledge and clears those they answer, in their order, among
    /// the append's <paramref name="writes"/>.
    /// </summary>
    internal static async Task ApplyAsync(AppendWrites writes, IReadOnlyList<MessageLogRecord> records, CancellationToken cancellationToken)
    {
        foreach (var record in records)
        {
            foreach (var acknowledged in record.Acknowledges ?? [])
            {
                var reference = acknowledged.Request;
                await writes.RunAsync(Insert, cancellationToken,
                    ("@r", reference.RequestId.ToString()),
                    ("@d", reference.Device.ToString()),
                    ("@u", acknowledged.User.ToString()),
                    ("@sr", reference.ServiceReference),
                    ("@srv", reference.ServiceReferenceVariant),
                    ("@v", reference.SchemaVersion),
                    ("@at", acknowledged.AcknowledgedAt.ToUnixTimeTicks()));
            }
            if (record.Answers is { } answered)
            {
                await writes.RunAsync(Delete, cancellationToken, ("@r", answered.RequestId.ToString()), ("@d", answered.Device.ToString()));
            }
        }
    }
}

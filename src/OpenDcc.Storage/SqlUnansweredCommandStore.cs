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
    public async Task<IReadOnlyList<UnansweredCommand>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command(
            "SELECT request_id, device, user_id, service_reference, service_reference_variant, schema_version, acknowledged_at " +
            "FROM unanswered_command ORDER BY acknowledged_at, request_id, device");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var commands = new List<UnansweredCommand>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var reference = new DeviceRequestReference(RequestId.Parse(reader.GetString(0)), reader.GetString(3), reader.GetString(4), reader.GetString(5), Eui64.Parse(reader.GetString(1)));
            commands.Add(new UnansweredCommand(reference, Eui64.Parse(reader.GetString(2)), Instant.FromUnixTimeTicks(reader.GetInt64(6))));
        }
        return commands;
    }

    /// <summary>Records <paramref name="record"/>'s acknowledged commands and clears the one it answers, in <paramref name="transaction"/>.</summary>
    internal static async Task ApplyAsync(DbConnection connection, DbTransaction transaction, MessageLogRecord record, CancellationToken cancellationToken)
    {
        foreach (var acknowledged in record.Acknowledges ?? [])
        {
            var reference = acknowledged.Request;
            await using var add = connection.Command(
                    "INSERT INTO unanswered_command (request_id, device, user_id, service_reference, service_reference_variant, schema_version, acknowledged_at) " +
                    "VALUES (@r, @d, @u, @sr, @srv, @v, @at) ON CONFLICT (request_id, device) DO NOTHING", transaction)
                .With("@r", reference.RequestId.ToString())
                .With("@d", reference.Device.ToString())
                .With("@u", acknowledged.User.ToString())
                .With("@sr", reference.ServiceReference)
                .With("@srv", reference.ServiceReferenceVariant)
                .With("@v", reference.SchemaVersion)
                .With("@at", acknowledged.AcknowledgedAt.ToUnixTimeTicks());
            await add.ExecuteNonQueryAsync(cancellationToken);
        }
        if (record.Answers is { } answered)
        {
            await ClearAsync(connection, transaction, answered, cancellationToken);
        }
    }

    /// <summary>Clears <paramref name="answered"/>, in <paramref name="transaction"/>; nothing when it is not recorded (OpenDcc's own reads, an outcome after a restart answered it).</summary>
    internal static async Task ClearAsync(DbConnection connection, DbTransaction transaction, CommandKey answered, CancellationToken cancellationToken)
    {
        await using var clear = connection.Command("DELETE FROM unanswered_command WHERE request_id = @r AND device = @d", transaction)
            .With("@r", answered.RequestId.ToString())
            .With("@d", answered.Device.ToString());
        await clear.ExecuteNonQueryAsync(cancellationToken);
    }
}

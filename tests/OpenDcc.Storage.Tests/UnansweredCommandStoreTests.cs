using NodaTime;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;

namespace OpenDcc.Storage.Tests;

/// <summary>Acknowledged device commands are recorded with their request's log entry and cleared with their answer's.</summary>
public abstract class UnansweredCommandStoreTests(IStoreEngine engine) : StoreTests(engine)
{
    private static readonly Eui64 Supplier = Eui64.Parse("90-B3-D5-1F-30-01-00-00");
    private static readonly Eui64 Meter = Eui64.Parse("00-DB-12-34-56-78-90-A0");
    private static readonly Eui64 GasMeter = Eui64.Parse("00-DB-12-34-56-78-90-A1");
    private static readonly Eui64 Dsp = Eui64.Parse("90-B3-D5-1F-30-00-00-02");
    private static readonly Uri Endpoint = new("http://supplier.example/duis");
    private static readonly Instant T0 = Instant.FromUtc(2026, 11, 30, 9, 0);

    [Fact]
    public async Task A_logged_request_records_the_commands_it_acknowledges_and_they_survive_reopening()
    {
        var read = Command(new RequestId(Supplier, Meter, 10), "4.1.1", T0);
        var firmwareToMeter = Command(new RequestId(Supplier, Dsp, 11), "11.1", T0 + Duration.FromSeconds(1), Meter);
        var firmwareToGasMeter = Command(new RequestId(Supplier, Dsp, 11), "11.1", T0 + Duration.FromSeconds(1), GasMeter);

        await LogRequestAsync(read);
        await LogRequestAsync(firmwareToMeter, firmwareToGasMeter);
        await ReopenAsync();

        Assert.Equal([read, firmwareToMeter, firmwareToGasMeter], await Store.UnansweredCommands.ListAsync());
    }

    [Fact]
    public async Task A_list_up_to_a_limit_gives_the_oldest_acknowledged_and_the_count_is_of_all()
    {
        var commands = Enumerable.Range(0, 5).Select(i => Command(new RequestId(Supplier, Meter, 20 + (ulong)i), "4.1.1", T0 + Duration.FromSeconds(10 - i))).ToList();
        foreach (var command in commands)
        {
            await LogRequestAsync(command);
        }

        Assert.Equal([commands[4], commands[3]], await Store.UnansweredCommands.ListAsync(max: 2));
        Assert.Equal(5, await Store.UnansweredCommands.CountAsync());
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.UnansweredCommands.ListAsync(max: 0));
    }

    [Fact]
    public async Task An_answer_logged_or_queued_for_delivery_clears_its_command_and_only_that_one()
    {
        var undeliverable = Command(new RequestId(Supplier, Meter, 10), "4.1.1", T0);
        var delivered = Command(new RequestId(Supplier, GasMeter, 11), "4.1.1", T0);
        var firmwareToMeter = Command(new RequestId(Supplier, Dsp, 12), "11.1", T0, Meter);
        var firmwareToGasMeter = Command(new RequestId(Supplier, Dsp, 12), "11.1", T0, GasMeter);
        await LogRequestAsync(undeliverable);
        await LogRequestAsync(delivered);
        await LogRequestAsync(firmwareToMeter, firmwareToGasMeter);

        await Store.MessageLog.AppendAsync([new MessageLogRecord(T0, MessageDirection.Outbound, Supplier, $"{undeliverable.Request.RequestId}", "I0 undeliverable: the user has no response URL", "<Response/>"u8.ToArray()) { Answers = undeliverable.Key }]);
        await Store.QueueAsync(Supplier, Endpoint, $"{delivered.Request.RequestId}", "<Response/>"u8.ToArray(), T0, delivered.Key);
        // 11.1: one device's outcome clears that device's command, not the other's under the same RequestID.
        await Store.QueueAsync(Supplier, Endpoint, "alert", "<DCCAlert/>"u8.ToArray(), T0, firmwareToGasMeter.Key);

        Assert.Equal([firmwareToMeter], await Store.UnansweredCommands.ListAsync());
    }

    [Fact]
    public async Task An_answer_to_a_command_not_recorded_clears_nothing_and_is_still_logged_and_queued()
    {
        var read = Command(new RequestId(Supplier, Meter, 10), "4.1.1", T0);
        await LogRequestAsync(read);
        var stranger = new CommandKey(new RequestId(Supplier, Meter, 9), Meter);

        var logged = await Store.MessageLog.AppendAsync([new MessageLogRecord(T0, MessageDirection.Outbound, Supplier, "late", "I0 undeliverable: the user has no response URL", "<Response/>"u8.ToArray()) { Answers = stranger }]);
        var queued = await Store.QueueAsync(Supplier, Endpoint, "late", "<Response/>"u8.ToArray(), T0, stranger);

        Assert.Single(logged);
        Assert.NotNull(await Store.Delivery.FindAsync(queued));
        Assert.Equal([read], await Store.UnansweredCommands.ListAsync());
    }

    [Fact]
    public async Task A_request_and_its_answer_in_one_append_leave_nothing_recorded()
    {
        var read = Command(new RequestId(Supplier, Meter, 10), "4.1.1", T0);

        await Store.MessageLog.AppendAsync(
        [
            new MessageLogRecord(T0, MessageDirection.Inbound, Supplier, $"{read.Request.RequestId}", "I99", "<Request/>"u8.ToArray()) { AcceptedCounter = 10, Acknowledges = [read] },
            new MessageLogRecord(T0, MessageDirection.Outbound, Supplier, $"{read.Request.RequestId}", "I0 undeliverable", "<Response/>"u8.ToArray()) { Answers = read.Key },
        ]);

        Assert.Empty(await Store.UnansweredCommands.ListAsync());
    }

    private static UnansweredCommand Command(RequestId requestId, string srv, Instant at, Eui64? device = null) =>
        new(new DeviceRequestReference(requestId, string.Join('.', srv.Split('.').Take(2)), srv, "5.1", device ?? requestId.Target), Supplier, at);

    private Task LogRequestAsync(params UnansweredCommand[] acknowledged) =>
        Store.MessageLog.AppendAsync(
        [
            new MessageLogRecord(acknowledged[0].AcknowledgedAt, MessageDirection.Inbound, Supplier, $"{acknowledged[0].Request.RequestId}", "I99", "<Request/>"u8.ToArray())
            {
                AcceptedCounter = acknowledged[0].Request.RequestId.Counter,
                Acknowledges = acknowledged,
            },
        ]);
}

public sealed class SqliteUnansweredCommandStoreTests() : UnansweredCommandStoreTests(new SqliteEngine());

public sealed class PostgresUnansweredCommandStoreTests() : UnansweredCommandStoreTests(new PostgresEngine());

using NodaTime;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Delivery;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;
using OpenDcc.Storage;

namespace OpenDcc.Cli.Tests;

public sealed class DeliveryCommandTests : IDisposable
{
    private static readonly Eui64 Supplier = Eui64.Parse("90-B3-D5-1F-30-01-00-00");
    private static readonly Eui64 NetworkOperator = Eui64.Parse("90-B3-D5-1F-30-02-00-00");
    private static readonly Uri Endpoint = new("http://127.0.0.1:9/duis/response");

    private readonly CliRun cli = new();

    [Fact]
    public async Task Delivery_failed_lists_the_failed_queue_and_redeliver_puts_one_users_messages_back_due_now()
    {
        var failedAt = cli.Clock.GetCurrentInstant();
        long supplierMessage, operatorMessage, pending;
        await using (var store = await OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            await AddSupplierAndNetworkOperatorAsync(store);
            supplierMessage = await FailAsync(store, Supplier, "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1000", failedAt);
            operatorMessage = await FailAsync(store, NetworkOperator, "AD1 alert", failedAt);
            pending = await QueueAsync(store, Supplier, "still pending", [1], failedAt);
        }
        cli.Clock.Advance(Duration.FromHours(3));

        var (code, output, _) = await cli.RunWithDataAsync("delivery", "failed");
        Assert.Equal(0, code);
        Assert.Contains("2 failed messages", output, StringComparison.Ordinal);
        Assert.Contains("90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1000", output, StringComparison.Ordinal);
        Assert.Contains("AD1 alert", output, StringComparison.Ordinal);
        Assert.Contains($"  {supplierMessage}: last error: Connection refused (127.0.0.1:9)", output, StringComparison.Ordinal); // whole, a line after the table
        Assert.DoesNotContain("still pending", output, StringComparison.Ordinal);
        Assert.Contains("2026-11-30T09:00:00Z", output, StringComparison.Ordinal); // held two days from the last attempt

        (code, output, _) = await cli.RunWithDataAsync("delivery", "failed", "--user", NetworkOperator.ToString());
        Assert.Equal(0, code);
        Assert.Contains($"1 failed message to DCC user {NetworkOperator}", output, StringComparison.Ordinal);
        Assert.DoesNotContain("00-DB-12-34-56-78-90-A0:1000", output, StringComparison.Ordinal);

        (code, output, _) = await cli.RunWithDataAsync("delivery", "redeliver", "--user", Supplier.ToString());
        Assert.Equal(0, code);
        Assert.Contains($"1 failed message to DCC user {Supplier} queued for delivery again", output, StringComparison.Ordinal);

        await using (var store = await OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            var requeued = await store.Delivery.FindAsync(supplierMessage);
            Assert.Equal(DeliveryState.Pending, requeued!.State);
            Assert.Equal(cli.Clock.GetCurrentInstant(), requeued.NextAttemptAt);
            Assert.Equal(DeliveryState.Failed, (await store.Delivery.FindAsync(operatorMessage))!.State);
            Assert.Equal(DeliveryState.Pending, (await store.Delivery.FindAsync(pending))!.State);
        }

        (code, output, _) = await cli.RunWithDataAsync("delivery", "redeliver", "--all");
        Assert.Equal(0, code);
        Assert.Contains("1 failed message queued for delivery again", output, StringComparison.Ordinal);
        (_, output, _) = await cli.RunWithDataAsync("delivery", "failed");
        Assert.Contains("0 failed messages", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delivery_queued_lists_the_messages_on_their_way_soonest_due_first_with_their_last_error()
    {
        var at = cli.Clock.GetCurrentInstant();
        long retrying;
        await using (var store = await OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            await AddSupplierAndNetworkOperatorAsync(store);
            // Queued first, due later: listed second.
            retrying = await QueueAsync(store, NetworkOperator, "AD1 alert", [2], at - Duration.FromMinutes(1));
            await SettleFailedAsync(store, retrying, "Connection refused (127.0.0.1:9)", at - Duration.FromSeconds(30), nextAttemptAt: at + Duration.FromMinutes(2));
            await QueueAsync(store, Supplier, "first attempt due", [1], at);
            await FailAsync(store, Supplier, "failed already", at);
        }

        var (code, output, _) = await cli.RunWithDataAsync("delivery", "queued");

        Assert.Equal(0, code);
        Assert.Contains("2 messages on their way", output, StringComparison.Ordinal);
        Assert.True(output.IndexOf("first attempt due", StringComparison.Ordinal) < output.IndexOf("AD1 alert", StringComparison.Ordinal), output);
        Assert.Matches(@"AD1 alert\s+1\s+2026-11-28T08:59:30Z\s+2026-11-28T09:02:00Z", output);
        Assert.Contains($"  {retrying}: last error: Connection refused (127.0.0.1:9)", output, StringComparison.Ordinal);
        Assert.DoesNotContain("failed already", output, StringComparison.Ordinal);
        Assert.Contains($"1 message on its way to DCC user {NetworkOperator}", (await cli.RunWithDataAsync("delivery", "queued", "--user", NetworkOperator.ToString())).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delivery_redeliver_puts_back_the_oldest_batch_of_each_user_and_says_the_rest_follow_in_batches()
    {
        var batch = DeliveryOptions.Default.RedeliverBatchSize;
        var failedAt = cli.Clock.GetCurrentInstant();
        long oldest, newest, operatorMessage;
        await using (var store = await OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            await AddSupplierAndNetworkOperatorAsync(store);
            oldest = await FailAsync(store, Supplier, "request 0", failedAt);
            newest = oldest;
            for (var i = 1; i <= batch; i++)
            {
                newest = await FailAsync(store, Supplier, $"request {i}", failedAt + Duration.FromSeconds(i));
            }
            operatorMessage = await FailAsync(store, NetworkOperator, "AD1 alert", failedAt + Duration.FromHours(1));
        }
        cli.Clock.Advance(Duration.FromHours(3));

        var (code, output, _) = await cli.RunWithDataAsync("delivery", "redeliver", "--all");

        Assert.Equal(0, code);
        Assert.Contains($"{batch + 1:N0} failed messages queued for delivery again; a running hub sends them within a second. The other one follows in batches of {batch:N0} per user", output, StringComparison.Ordinal);
        await using (var store = await OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            Assert.Equal(DeliveryState.Pending, (await store.Delivery.FindAsync(oldest))!.State);
            Assert.Equal(DeliveryState.Failed, (await store.Delivery.FindAsync(newest))!.State);
            Assert.Equal(DeliveryState.Pending, (await store.Delivery.FindAsync(operatorMessage))!.State);
        }
    }

    [Fact]
    public async Task Delivery_unanswered_lists_the_acknowledged_commands_not_yet_answered_oldest_first_with_how_long_they_have_waited()
    {
        var at = cli.Clock.GetCurrentInstant();
        var older = new RequestId(Supplier, Eui64.Parse("00-DB-12-34-56-78-90-A0"), 1000);
        var newer = new RequestId(Supplier, Eui64.Parse("00-DB-12-34-56-78-90-A1"), 1001);
        var answered = new RequestId(Supplier, Eui64.Parse("00-DB-12-34-56-78-90-A2"), 1002);
        await using (var store = await OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            foreach (var (request, srv, when) in new[] { (newer, "7.4", at + Duration.FromSeconds(30)), (older, "4.1.1", at), (answered, "4.1.1", at) })
            {
                var command = new UnansweredCommand(new DeviceRequestReference(request, srv[..3], srv, "5.1", request.Target), Supplier, when);
                await store.MessageLog.AppendAsync([new MessageLogRecord(when, MessageDirection.Inbound, Supplier, $"{request}", "I99", new byte[] { 1 }) { AcceptedCounter = request.Counter, Acknowledges = [command] }]);
            }
            await QueueAsync(store, Supplier, $"{answered}", [2], at, new CommandKey(answered, answered.Target));
        }
        cli.Clock.Advance(Duration.FromMinutes(2));

        var (code, output, _) = await cli.RunWithDataAsync("delivery", "unanswered");

        Assert.Equal(0, code);
        Assert.Contains("2 device commands acknowledged and not yet answered", output, StringComparison.Ordinal);
        Assert.DoesNotContain($"{answered}", output, StringComparison.Ordinal);
        var olderLine = output.Split('\n').Single(l => l.Contains($"{older}", StringComparison.Ordinal));
        Assert.Contains("4.1.1", olderLine, StringComparison.Ordinal);
        Assert.Contains("120 s", olderLine, StringComparison.Ordinal);
        Assert.Contains("90 s", output.Split('\n').Single(l => l.Contains($"{newer}", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.True(output.IndexOf($"{older}", StringComparison.Ordinal) < output.IndexOf($"{newer}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Users_response_url_sets_the_url_the_users_undelivered_messages_go_to_next_and_without_url_removes_it()
    {
        var (code, _, _) = await cli.RunWithDataAsync("users", "add", "--id", Supplier.ToString(), "--role", "IS", "--name", "Supplier", "--response-url", Endpoint.ToString());
        Assert.Equal(0, code);
        long failed;
        await using (var store = await OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            failed = await FailAsync(store, Supplier, "request 1", cli.Clock.GetCurrentInstant());
        }

        (code, var output, _) = await cli.RunWithDataAsync("users", "response-url", "--id", Supplier.ToString(), "--url", "https://supplier.example/duis");
        Assert.Equal(0, code);
        Assert.Contains("go to https://supplier.example/duis, its messages not yet delivered from their next attempt; 1 failed message waits in the failed queue: 'opendcc delivery redeliver --user 90-B3-D5-1F-30-01-00-00' sends it there", output, StringComparison.Ordinal);
        await using (var store = await OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            Assert.Equal(new Uri("https://supplier.example/duis"), (await store.Parties.FindUserAsync(Supplier))!.ResponseUrl);
            var now = cli.Clock.GetCurrentInstant();
            Assert.Equal(1, await store.Delivery.RequeueFailedAsync(Supplier, now));
            Assert.Equal(new Uri("https://supplier.example/duis"), Assert.Single(await store.Delivery.ClaimDueAsync(now, 10, Duration.FromMinutes(1))).Destination);
        }

        // The message requeued above is on its way: the dispatcher now sends it nowhere, and the command says so
        // rather than that it goes to the failed queue at once, as only new messages do.
        (code, output, _) = await cli.RunWithDataAsync("users", "response-url", "--id", Supplier.ToString());
        Assert.Equal(0, code);
        Assert.Contains("has no response URL: its new asynchronous responses and alerts go to the failed queue at once ('no response URL registered'); on their way, 1 message: sent nowhere (each attempt logged NoResponseUrl), to the failed queue at the end of the retry window unless a URL is set before the next attempt", output, StringComparison.Ordinal);

        (code, _, var error) = await cli.RunWithDataAsync("users", "response-url", "--id", Supplier.ToString(), "--url", "duis");
        Assert.Equal(1, code);
        Assert.Contains("--url: 'duis' is not an absolute http or https URL", error, StringComparison.Ordinal);
        (code, _, error) = await cli.RunWithDataAsync("users", "response-url", "--id", Supplier.ToString(), "--url", "ftp://supplier.example/duis");
        Assert.Equal(1, code);
        Assert.Contains("--url: 'ftp://supplier.example/duis' is not an absolute http or https URL", error, StringComparison.Ordinal);
        (code, _, error) = await cli.RunWithDataAsync("users", "add", "--id", "90-B3-D5-1F-30-01-00-09", "--role", "IS", "--name", "S", "--response-url", "ftp://supplier.example/duis");
        Assert.Equal(1, code);
        Assert.Equal("opendcc: --response-url: 'ftp://supplier.example/duis' is not an absolute http or https URL", error.Trim());
        (code, _, error) = await cli.RunWithDataAsync("users", "response-url", "--id", NetworkOperator.ToString(), "--url", "https://dno.example/duis");
        Assert.Equal(1, code);
        Assert.Contains(NetworkOperator.ToString(), error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "delivery", "redeliver" }, "give --user EUI64 for one user's failed messages, or --all")]
    [InlineData(new[] { "delivery", "redeliver", "--all", "--user", "90-B3-D5-1F-30-01-00-00" }, "--user and --all: give one of them")]
    [InlineData(new[] { "delivery", "redeliver", "--user", "not-an-eui" }, "--user:")]
    [InlineData(new[] { "delivery", "failed", "--user", "12" }, "--user:")]
    [InlineData(new[] { "delivery", "failed", "--user", "90-B3-D5-1F-30-0F-0F-0F" }, "--user: 90-B3-D5-1F-30-0F-0F-0F is not a DCC user")]
    [InlineData(new[] { "delivery", "redeliver", "--user", "90-B3-D5-1F-30-0F-0F-0F" }, "--user: 90-B3-D5-1F-30-0F-0F-0F is not a DCC user")]
    public async Task Delivery_commands_name_the_option_at_fault(string[] args, string expected)
    {
        await cli.StartStoreAsync();
        var (code, _, error) = await cli.RunWithDataAsync(args);
        Assert.Equal(1, code);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delivery_failed_shows_the_oldest_failures_up_to_its_limit_and_counts_them_all()
    {
        var failedAt = cli.Clock.GetCurrentInstant();
        await using (var store = await OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            await store.Parties.AddUserAsync(new DccUser(Supplier, "Supplier", DccUserRole.ImportSupplier));
            for (var i = 0; i < 3; i++)
            {
                await FailAsync(store, Supplier, $"request {i}", failedAt + Duration.FromSeconds(i));
            }
        }

        var (code, output, _) = await cli.RunWithDataAsync("delivery", "failed", "--limit", "2");

        Assert.Equal(0, code);
        Assert.Contains("3 failed messages; the oldest 2 shown (--limit)", output, StringComparison.Ordinal);
        Assert.Contains("request 1", output, StringComparison.Ordinal);
        Assert.DoesNotContain("request 2", output, StringComparison.Ordinal);
        Assert.Equal("opendcc: --limit must be between 1 and 1,000,000", (await cli.RunWithDataAsync("delivery", "failed", "--limit", "0")).Error.Trim());
    }

    [Fact]
    public async Task Delivery_unanswered_shows_the_oldest_commands_up_to_its_limit_and_counts_them_all()
    {
        var at = cli.Clock.GetCurrentInstant();
        await using (var store = await OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            for (var i = 0; i < 3; i++)
            {
                var request = new RequestId(Supplier, Eui64.Parse($"00-DB-12-34-56-78-90-A{i}"), 2000 + (ulong)i);
                var command = new UnansweredCommand(new DeviceRequestReference(request, "4.1", "4.1.1", "5.1", request.Target), Supplier, at + Duration.FromSeconds(i));
                await store.MessageLog.AppendAsync([new MessageLogRecord(at, MessageDirection.Inbound, Supplier, $"{request}", "I99", new byte[] { 1 }) { AcceptedCounter = request.Counter, Acknowledges = [command] }]);
            }
        }

        var (code, output, _) = await cli.RunWithDataAsync("delivery", "unanswered", "--limit", "2");

        Assert.Equal(0, code);
        Assert.Contains("3 device commands acknowledged and not yet answered; the oldest 2 shown (--limit)", output, StringComparison.Ordinal);
        Assert.Contains("00-DB-12-34-56-78-90-A1", output, StringComparison.Ordinal);
        Assert.DoesNotContain("00-DB-12-34-56-78-90-A2", output, StringComparison.Ordinal);
        Assert.Equal("opendcc: --limit must be between 1 and 1,000,000", (await cli.RunWithDataAsync("delivery", "unanswered", "--limit", "0")).Error.Trim());
    }

    [Fact]
    public async Task Delivery_local_lists_the_local_commands_whose_answer_has_not_come_back_oldest_first_up_to_its_limit()
    {
        var at = cli.Clock.GetCurrentInstant();
        await using (var store = await OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            for (var i = 0; i < 4; i++)
            {
                var request = new RequestId(Supplier, Eui64.Parse($"00-DB-12-34-56-78-90-A{i}"), 3000 + (ulong)i);
                await store.LocalCommands.RecordAsync(new LocalCommand(request, "4.1.1", "<sr:ReadInstantaneousImportRegisters/>", null, [1, 2, 3], at + Duration.FromMinutes(i)));
            }
            // Returned by an 8.13 that was logged: no longer waiting.
            var (command, by) = (new RequestId(Supplier, Eui64.Parse("00-DB-12-34-56-78-90-A0"), 3000), new RequestId(Supplier, Eui64.Parse("00-DB-12-34-56-78-90-A0"), 3001));
            await store.LocalCommands.MarkReturnedAsync(command, by, at);
            await store.MessageLog.AppendAsync([new MessageLogRecord(at, MessageDirection.Inbound, Supplier, by.ToString(), "I0", new byte[] { 1 }) { Returns = new LocalReturn(command, by) }]);
        }

        var (code, output, _) = await cli.RunWithDataAsync("delivery", "local", "--limit", "2");

        Assert.Equal(0, code);
        Assert.Contains("3 commands given for local delivery, the device's answer not returned; the oldest 2 shown (--limit)", output, StringComparison.Ordinal);
        Assert.DoesNotContain(":3000", output, StringComparison.Ordinal);
        Assert.Contains("90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A1:3001", output, StringComparison.Ordinal);
        Assert.Contains("90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A2:3002", output, StringComparison.Ordinal);
        Assert.DoesNotContain(":3003", output, StringComparison.Ordinal);
        Assert.Contains(NodaTime.Text.InstantPattern.General.Format(at + Duration.FromMinutes(1) + LocalCommands.KeptFor), output, StringComparison.Ordinal);
    }

    private static async Task AddSupplierAndNetworkOperatorAsync(OpenDccStore store)
    {
        await store.Parties.AddUserAsync(new DccUser(Supplier, "Supplier", DccUserRole.ImportSupplier));
        await store.Parties.AddUserAsync(new DccUser(NetworkOperator, "Network operator", DccUserRole.ElectricityDistributor));
    }

    private static async Task<long> FailAsync(OpenDccStore store, Eui64 user, string correlation, Instant at)
    {
        var id = await QueueAsync(store, user, correlation, [1, 2, 3], at - Duration.FromSeconds(290));
        await SettleFailedAsync(store, id, "Connection refused (127.0.0.1:9)", at, nextAttemptAt: null);
        return id;
    }

    /// <summary>Settles an attempt at message <paramref name="id"/> as failed as the hub does: with the attempt's message log entry.</summary>
    private static async Task SettleFailedAsync(OpenDccStore store, long id, string error, Instant at, Instant? nextAttemptAt)
    {
        var message = await store.Delivery.FindAsync(id) ?? throw new InvalidOperationException($"message {id} is not in the queue to settle");
        await store.MessageLog.AppendAsync([new MessageLogRecord(at, MessageDirection.Outbound, message.User, message.Correlation, "Failed", ReadOnlyMemory<byte>.Empty)
        {
            SettlesDelivery = new DeliveryAttempt(id, error, nextAttemptAt),
        }]);
    }

    /// <summary>Queues a message for <see cref="Endpoint"/> as the hub does: with the message log entry that hands it over.</summary>
    private static async Task<long> QueueAsync(OpenDccStore store, Eui64 user, string correlation, byte[] payload, Instant at, CommandKey? answers = null)
    {
        await store.MessageLog.AppendAsync([new MessageLogRecord(at, MessageDirection.Outbound, user, correlation, $"message queued for delivery to {Endpoint}", payload)
        {
            Answers = answers,
            QueuedForDelivery = new QueuedDelivery(Endpoint, What: null),
        }]);
        return (await store.Delivery.ListAsync(DeliveryState.Pending, user)).Where(m => m.Correlation == correlation).Max(m => m.Id);
    }

    public void Dispose() => cli.Dispose();
}

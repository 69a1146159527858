using System.Data.Common;
using System.Globalization;
using NodaTime;
using NodaTime.Testing;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;

namespace OpenDcc.Storage.Tests;

/// <summary>The behaviour every store engine must have; run once per engine by the subclasses below.</summary>
public abstract class StoreContractTests(IStoreEngine engine) : IAsyncLifetime
{
    private static readonly Eui64 Supplier = Eui64.Parse("90-B3-D5-1F-30-01-00-00");
    private static readonly Eui64 NetworkOperator = Eui64.Parse("90-B3-D5-1F-30-02-00-00");
    private static readonly Eui64 Meter = Eui64.Parse("00-DB-12-34-56-78-90-A0");
    private static readonly Eui64 GasMeter = Eui64.Parse("00-DB-12-34-56-78-90-B0");
    private static readonly Eui64 CommsHub = Eui64.Parse("00-DB-12-34-56-78-90-00");
    private readonly FakeClock clock = new(Instant.FromUtc(2026, 11, 28, 12, 0));
    private OpenDccStore store = null!;

    public async Task InitializeAsync() => store = await engine.OpenAsync();

    public async Task DisposeAsync()
    {
        await store.DisposeAsync();
        await engine.DisposeAsync();
    }

    [Fact]
    public async Task Reopening_applies_no_migration_twice()
    {
        await store.DisposeAsync();
        store = await engine.OpenAsync();
        Assert.Equal(2L, await ScalarAsync("SELECT COUNT(*) FROM schema_migration"));
    }

    [Fact]
    public async Task A_database_newer_than_this_build_is_refused()
    {
        await ExecuteAsync("INSERT INTO schema_migration (version, name, applied_at) VALUES (9999, 'future', 'x')");
        await store.DisposeAsync();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(engine.OpenAsync);
        Assert.Contains("9999", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_added_user_is_found_with_every_field()
    {
        var user = new DccUser(Supplier, "Test Supplier", DccUserRole.ImportSupplier | DccUserRole.GasSupplier, DccUserStatus.Active, new Uri("https://supplier.example/duis"));
        await store.Parties.AddUserAsync(user);
        Assert.Equal(user, await store.Parties.FindUserAsync(Supplier));
        Assert.Null(await store.Parties.FindUserAsync(NetworkOperator));
    }

    [Fact]
    public async Task Adding_a_user_twice_is_refused_as_a_duplicate()
    {
        await store.Parties.AddUserAsync(new DccUser(Supplier, "One", DccUserRole.ImportSupplier));
        var error = await Assert.ThrowsAsync<DuplicateDccUserException>(() => store.Parties.AddUserAsync(new DccUser(Supplier, "Two", DccUserRole.GasSupplier)));
        Assert.Equal(Supplier, error.Id);
        Assert.Equal("One", (await store.Parties.FindUserAsync(Supplier))!.Name);
    }

    [Fact]
    public async Task Users_are_listed_in_id_order_and_status_changes_stick()
    {
        await store.Parties.AddUserAsync(new DccUser(NetworkOperator, "DNO", DccUserRole.ElectricityDistributor));
        await store.Parties.AddUserAsync(new DccUser(Supplier, "Supplier", DccUserRole.ImportSupplier));
        await store.Parties.SetUserStatusAsync(NetworkOperator, DccUserStatus.Suspended);
        var users = await store.Parties.ListUsersAsync();
        Assert.Equal([Supplier, NetworkOperator], users.Select(u => u.Id));
        Assert.Equal(DccUserStatus.Suspended, users[1].Status);
        await Assert.ThrowsAsync<UnknownDccUserException>(() => store.Parties.SetUserStatusAsync(Eui64.Parse("00-00-00-00-00-00-00-01"), DccUserStatus.Active));
    }

    [Fact]
    public async Task A_certificate_binds_to_its_user_and_is_found_by_issuer_and_serial()
    {
        await store.Parties.AddUserAsync(new DccUser(Supplier, "Supplier", DccUserRole.ImportSupplier));
        var certificate = IssueXmlSign(Supplier);
        Assert.True(await store.Parties.AddCertificateAsync(certificate));
        Assert.False(await store.Parties.AddCertificateAsync(certificate));

        var found = await store.Parties.FindCertificateAsync(certificate.IssuerName, certificate.SerialNumber);
        Assert.Equal(certificate, found);
        Assert.Equal([certificate], await store.Parties.ListCertificatesAsync(Supplier));
    }

    [Fact]
    public async Task A_certificate_whose_user_is_unknown_is_refused_and_nothing_is_stored()
    {
        var certificate = IssueXmlSign(Supplier);
        var error = await Assert.ThrowsAsync<UnknownDccUserException>(() => store.Parties.AddCertificateAsync(certificate));
        Assert.Equal(Supplier, error.Id);
        Assert.Equal(0L, await ScalarAsync("SELECT COUNT(*) FROM organisation_certificate"));
    }

    [Fact]
    public async Task An_added_device_is_found_with_every_field_listed_and_counted()
    {
        var meter = new Device(Meter, DeviceType.ESME, SmiStatus.InstalledNotCommissioned);
        var hub = new Device(CommsHub, DeviceType.CHF, SmiStatus.Commissioned);
        await store.Inventory.AddDeviceAsync(meter);
        await store.Inventory.AddDeviceAsync(hub);

        Assert.Equal(meter, await store.Inventory.FindDeviceAsync(Meter));
        Assert.Null(await store.Inventory.FindDeviceAsync(GasMeter));
        Assert.Equal([hub, meter], await store.Inventory.ListDevicesAsync());
        Assert.Equal(2L, await store.Inventory.CountDevicesAsync());
        Assert.Equal([hub, meter], await store.Inventory.FindDevicesAsync([Meter, GasMeter, CommsHub, Meter]));
    }

    [Fact]
    public async Task Adding_a_device_twice_is_refused_as_a_duplicate_and_the_first_is_kept()
    {
        await store.Inventory.AddDeviceAsync(new Device(Meter, DeviceType.ESME, SmiStatus.Commissioned));
        var error = await Assert.ThrowsAsync<DuplicateDeviceException>(() => store.Inventory.AddDeviceAsync(new Device(Meter, DeviceType.GSME, SmiStatus.Pending)));
        Assert.Equal(Meter, error.Id);
        Assert.Equal(new Device(Meter, DeviceType.ESME, SmiStatus.Commissioned), await store.Inventory.FindDeviceAsync(Meter));
    }

    [Fact]
    public async Task A_bulk_add_with_one_known_id_adds_nothing_and_names_that_id()
    {
        await store.Inventory.AddDeviceAsync(new Device(GasMeter, DeviceType.GSME, SmiStatus.Commissioned));
        var batch = Fleet(1200).Append(new Device(GasMeter, DeviceType.GSME, SmiStatus.Pending)).Concat(Fleet(1300).Skip(1200)).ToList();

        var error = await Assert.ThrowsAsync<DuplicateDeviceException>(() => store.Inventory.AddDevicesAsync(batch));
        Assert.Equal([GasMeter], error.Ids);
        Assert.Equal(1L, await store.Inventory.CountDevicesAsync());
        Assert.Equal(SmiStatus.Commissioned, (await store.Inventory.FindDeviceAsync(GasMeter))!.Status);
    }

    [Fact]
    public async Task A_bulk_add_names_every_known_id_in_the_order_offered()
    {
        var fleet = Fleet(1100);
        await store.Inventory.AddDevicesAsync([fleet[1050], fleet[3]]);
        var error = await Assert.ThrowsAsync<DuplicateDeviceException>(() => store.Inventory.AddDevicesAsync(fleet));
        Assert.Equal([fleet[3].Id, fleet[1050].Id], error.Ids);
        Assert.Equal(2L, await store.Inventory.CountDevicesAsync());
    }

    [Fact]
    public async Task A_bulk_add_larger_than_one_insert_batch_stores_every_device()
    {
        var fleet = Fleet(2345);
        await store.Inventory.AddDevicesAsync(fleet);
        Assert.Equal(2345L, await store.Inventory.CountDevicesAsync());
        Assert.Equal(fleet.OrderBy(d => d.Id), await store.Inventory.ListDevicesAsync());
        Assert.Equal(fleet.Where((_, i) => i % 7 == 0).OrderBy(d => d.Id), await store.Inventory.FindDevicesAsync([.. fleet.Where((_, i) => i % 7 == 0).Select(d => d.Id)]));
    }

    [Fact]
    public async Task A_bulk_add_naming_one_device_twice_is_refused_before_storing_any()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => store.Inventory.AddDevicesAsync(
            [new Device(Meter, DeviceType.ESME, SmiStatus.Commissioned), new Device(GasMeter, DeviceType.GSME, SmiStatus.Commissioned), new Device(Meter, DeviceType.ESME, SmiStatus.Pending)]));
        Assert.Contains(Meter.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await store.Inventory.CountDevicesAsync());
    }

    [Fact]
    public async Task Appends_are_numbered_from_one_and_chained_across_calls()
    {
        var first = await store.MessageLog.AppendAsync([Record("a"), Record("b")]);
        var second = await store.MessageLog.AppendAsync([Record("c")]);
        Assert.Equal([1L, 2L, 3L], first.Concat(second).Select(e => e.Sequence));
        Assert.Equal(MessageLogChain.Genesis.ToArray(), first[0].PreviousHash);
        Assert.Equal(first[1].Hash, second[0].PreviousHash);
        Assert.True((await MessageLogChain.VerifyAsync(store.MessageLog)).IsIntact);
    }

    [Fact]
    public async Task Every_field_of_a_logged_message_reads_back_exactly()
    {
        var inbound = new MessageLogRecord(clock.GetCurrentInstant().PlusTicks(1234567), MessageDirection.Inbound, Supplier, "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1000", "I99", new byte[] { 0, 1, 2, 255 });
        var anonymous = new MessageLogRecord(clock.GetCurrentInstant(), MessageDirection.Outbound, null, null, "AuthenticationFailure", ReadOnlyMemory<byte>.Empty);
        var appended = await store.MessageLog.AppendAsync([inbound, anonymous]);

        var read = await ReadAllAsync();
        Assert.Equal(2, read.Count);
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(appended[i].Sequence, read[i].Sequence);
            Assert.Equal(appended[i].Hash, read[i].Hash);
            Assert.Equal(appended[i].Record.At, read[i].Record.At);
            Assert.Equal(appended[i].Record.Direction, read[i].Record.Direction);
            Assert.Equal(appended[i].Record.User, read[i].Record.User);
            Assert.Equal(appended[i].Record.Correlation, read[i].Record.Correlation);
            Assert.Equal(appended[i].Record.Outcome, read[i].Record.Outcome);
            Assert.Equal(appended[i].Record.Payload.ToArray(), read[i].Record.Payload.ToArray());
        }
    }

    [Fact]
    public async Task Verify_finds_one_byte_altered_with_raw_sql()
    {
        for (var i = 0; i < 5; i++)
        {
            await store.MessageLog.AppendAsync([Record($"message {i}")]);
        }
        var payload = (await ReadAllAsync())[2].Record.Payload.ToArray();
        payload[3] ^= 0x01;
        await ExecuteAsync("UPDATE message_log SET payload = @p WHERE sequence = 3", ("@p", payload));

        var result = await MessageLogChain.VerifyAsync(store.MessageLog);
        Assert.Equal(3L, result.FirstBrokenSequence);
        Assert.Contains("content", result.Fault, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_finds_an_entry_deleted_from_the_middle()
    {
        await store.MessageLog.AppendAsync([Record("a"), Record("b"), Record("c"), Record("d")]);
        await ExecuteAsync("DELETE FROM message_log WHERE sequence = 2");
        var result = await MessageLogChain.VerifyAsync(store.MessageLog);
        Assert.Equal(2L, result.FirstBrokenSequence);
        Assert.Contains("missing", result.Fault, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_finds_entries_cut_from_the_end()
    {
        await store.MessageLog.AppendAsync([Record("a"), Record("b"), Record("c")]);
        await ExecuteAsync("DELETE FROM message_log WHERE sequence = 3");
        var result = await MessageLogChain.VerifyAsync(store.MessageLog);
        Assert.Equal(3L, result.FirstBrokenSequence);
        Assert.Contains("missing from the end", result.Fault, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_finds_an_entry_rewritten_with_a_fresh_hash_by_its_broken_link()
    {
        await store.MessageLog.AppendAsync([Record("a"), Record("b"), Record("c")]);
        var forged = MessageLogChain.ComputeHash(2, (await ReadAllAsync())[0].Hash, Record("forged"));
        await ExecuteAsync("UPDATE message_log SET payload = @p, hash = @h WHERE sequence = 2", ("@p", Record("forged").Payload.ToArray()), ("@h", forged));
        var result = await MessageLogChain.VerifyAsync(store.MessageLog);
        Assert.Equal(3L, result.FirstBrokenSequence);
        Assert.Contains("link", result.Fault, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_appenders_and_a_second_store_instance_build_one_chain()
    {
        await using var secondNode = await engine.OpenAsync();
        var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            var log = w % 2 == 0 ? store.MessageLog : secondNode.MessageLog;
            for (var i = 0; i < 25; i++)
            {
                await log.AppendAsync([Record($"w{w} m{i}"), Record($"w{w} m{i}b")]);
            }
        }));
        await Task.WhenAll(writers);
        var result = await MessageLogChain.VerifyAsync(store.MessageLog);
        Assert.True(result.IsIntact, result.Fault);
        Assert.Equal(400L, result.EntriesChecked);
    }

    [Fact]
    public async Task An_empty_log_verifies_as_intact()
    {
        var result = await MessageLogChain.VerifyAsync(store.MessageLog);
        Assert.True(result.IsIntact);
        Assert.Equal(0L, result.EntriesChecked);
    }

    /// <summary>Distinct devices of every type and status, offered out of ID order.</summary>
    private static List<Device> Fleet(int count) =>
        [.. Enumerable.Range(0, count).Select(i => new Device(
            new Eui64(0x00DB_0000_0000_0000UL + (ulong)((i * 7919) % 1_000_003)),
            DeviceTypes.All[i % DeviceTypes.All.Count],
            SmiStatuses.All[i % SmiStatuses.All.Count]))];

    private MessageLogRecord Record(string text) =>
        new(clock.GetCurrentInstant(), MessageDirection.Inbound, Supplier, "correlation", "I0", System.Text.Encoding.UTF8.GetBytes(text));

    private OrganisationCertificate IssueXmlSign(Eui64 entity)
    {
        using var ca = CertificateAuthority.Create("Test CA", clock, Duration.FromDays(3650));
        using var issued = ca.Issue(entity, RemotePartyRole.XmlSign, null, clock, Duration.FromDays(365));
        return OrganisationCertificate.FromX509(issued);
    }

    private async Task<List<MessageLogEntry>> ReadAllAsync()
    {
        var entries = new List<MessageLogEntry>();
        await foreach (var e in store.MessageLog.ReadAsync())
        {
            entries.Add(e);
        }
        return entries;
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = await store.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    private async Task ExecuteAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using DbConnection connection = await store.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var p = command.CreateParameter();
            p.ParameterName = name;
            p.Value = value;
            command.Parameters.Add(p);
        }
        await command.ExecuteNonQueryAsync();
    }
}

public sealed class SqliteStoreTests() : StoreContractTests(new SqliteEngine());

public sealed class PostgresStoreTests() : StoreContractTests(new PostgresEngine());

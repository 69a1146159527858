using System.Data.Common;
using System.Globalization;
using NodaTime;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Security;

namespace OpenDcc.Storage;

/// <summary>
/// The smart metering inventory in plain SQL that SQLite and PostgreSQL both speak. Bulk adds run in one
/// transaction through one prepared <c>INSERT</c> of <paramref name="rowsPerInsert"/> rows, reused for every batch:
/// one row suits in-process SQLite, where a statement costs microseconds; a few hundred suit PostgreSQL, where each
/// statement costs a round trip.
/// </summary>
/// <remarks>
/// An update reads the device's row under a lock: PostgreSQL's <c>SELECT … FOR UPDATE</c> (<paramref name="lockRows"/>);
/// SQLite's transactions here begin <c>IMMEDIATE</c>, taking the database's write lock before the read.
/// A write that makes a device name a comms hub locks the hub's row too (<see cref="LockCommsHubsAsync"/>). A write
/// PostgreSQL aborts to break a deadlock is made again from the start (<see cref="Db.RetryAbortedAsync{T}"/>).
/// </remarks>
internal sealed class SqlInventoryStore(Func<CancellationToken, Task<DbConnection>> open, int rowsPerInsert, bool lockRows) : IInventoryStore
{
    private const string Columns = "id, device_type, smi_status, model, comms_hub, wan_region, mpan, mprn, manufacturer, firmware_version, smets_chts_version, uprn, radio_cell, secondary_import_mpan, export_mpan";

    // What an insert writes: the columns read back, and the GSP group of the MPAN, kept for queries by group.
    private const string InsertColumns = Columns + ", gsp_group";

    // IDs per IN list when looking up many devices: few round trips, far below either engine's parameter limit.
    private const int IdsPerLookup = 500;

    public Task AddDeviceAsync(Device device, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(device);
        return AddDevicesAsync([device], cancellationToken);
    }

    public Task AddDevicesAsync(IReadOnlyList<Device> devices, CancellationToken cancellationToken = default) =>
        AddAsync(devices, null, cancellationToken);

    public Task AddDevicesAsync(IReadOnlyList<Device> devices, InventoryChange change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        return AddAsync(devices, change, cancellationToken);
    }

    public async Task<IDeviceImport> BeginImportAsync(InventoryChange change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        var connection = await open(cancellationToken);
        try
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken);
            if (lockRows)
            {
                // The import's lookups run in its transaction, in a table its rows have grown past what the statistics
                // know (a new store's have none): PostgreSQL would then read the whole table for an IN list of a few
                // hundred MPANs rather than their index, for every batch of an import of millions.
                await using var plan = connection.Command("SET LOCAL enable_seqscan = off", transaction);
                await plan.ExecuteNonQueryAsync(cancellationToken);
            }
            return new Import(this, connection, transaction, change);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>An import's transaction, each batch added as <see cref="AddAsync(DbConnection, DbTransaction, IReadOnlyList{Device}, InventoryChange?, CancellationToken)"/> adds it; disposed uncommitted, it is rolled back.</summary>
    private sealed class Import(SqlInventoryStore store, DbConnection connection, DbTransaction transaction, InventoryChange change) : IDeviceImport
    {
        public async Task AddAsync(IReadOnlyList<Device> devices, CancellationToken cancellationToken = default)
        {
            if (AnyToAdd(devices))
            {
                await store.AddAsync(connection, transaction, devices, change, cancellationToken);
            }
        }

        public Task<IReadOnlyList<Device>> FindDevicesAsync(IReadOnlyCollection<Eui64> ids, CancellationToken cancellationToken = default) =>
            FindWhereInAsync(connection, transaction, "id", ids, id => id.ToString(), cancellationToken);

        public Task<IReadOnlyList<Device>> FindDevicesServingAsync(IReadOnlyCollection<MeterPoint> meterPoints, CancellationToken cancellationToken = default) =>
            FindServingAsync(connection, transaction, meterPoints, cancellationToken);

        public Task CommitAsync(CancellationToken cancellationToken = default) => transaction.CommitAsync(cancellationToken);

        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }

    private async Task AddAsync(IReadOnlyList<Device> devices, InventoryChange? change, CancellationToken cancellationToken)
    {
        if (!AnyToAdd(devices))
        {
            return;
        }
        await Db.RetryAbortedAsync(async () =>
        {
            await using var connection = await open(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await AddAsync(connection, transaction, devices, change, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }, cancellationToken);
    }

    /// <summary>Whether there are devices to add; an ID named twice is refused.</summary>
    private static bool AnyToAdd(IReadOnlyList<Device> devices)
    {
        ArgumentNullException.ThrowIfNull(devices);
        var seen = new HashSet<Eui64>(devices.Count);
        var repeated = devices.Where(d => !seen.Add(d.Id)).Select(d => d.Id).Distinct().ToList();
        if (repeated.Count > 0)
        {
            throw new ArgumentException($"the devices to add name {string.Join(", ", repeated.Take(5))}{(repeated.Count > 5 ? ", …" : "")} more than once", nameof(devices));
        }
        return devices.Count > 0;
    }

    /// <summary>
    /// Inserts the devices in the transaction, with each one's first SMI status when there is a change. When any ID is
    /// held already, the transaction is rolled back and <see cref="DuplicateDeviceException"/> names those the inventory held.
    /// </summary>
    private async Task AddAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<Device> devices, InventoryChange? change, CancellationToken cancellationToken)
    {
        var serving = devices.Where(d => d.IsInService && d.ServedMeterPoints().Any()).ToList();
        if (serving.Count > 0)
        {
            await LockMeterPointsAsync(connection, transaction, lockRows, cancellationToken);
            await RefuseServedMeterPointsAsync(connection, transaction, serving, cancellationToken);
        }
        await LockCommsHubsAsync(connection, transaction, devices.Select(d => NewlyNamedCommsHub(null, d)), lockRows, cancellationToken);
        // ON CONFLICT DO NOTHING skips a known ID instead of failing, so every batch still runs and the IDs of the
        // batches that came up short are all the suspects; the transaction is then rolled back, leaving nothing added.
        var suspects = new List<Eui64>();
        await Db.InBatchesAsync(
            devices,
            rowsPerInsert,
            rows => InsertCommand(connection, transaction, rows),
            (parameters, row, device) =>
            {
                var values = ColumnValues(device);
                var at = values.Length * row;
                for (var i = 0; i < values.Length; i++)
                {
                    parameters[at + i].Value = values[i];
                }
            },
            async (insert, offset, rows) =>
            {
                if (await insert.ExecuteNonQueryAsync(cancellationToken) < rows)
                {
                    suspects.AddRange(devices.Skip(offset).Take(rows).Select(d => d.Id));
                }
            },
            cancellationToken);
        if (suspects.Count > 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            var known = (await FindDevicesAsync(suspects, cancellationToken)).Select(d => d.Id).ToHashSet();
            throw new DuplicateDeviceException([.. suspects.Where(known.Contains)]);
        }
        if (change is not null)
        {
            // As the rows: rowsPerInsert a statement, not a round trip per device (an import of 200,000 to PostgreSQL).
            var since = change.At.ToUnixTimeTicks();
            await Db.InBatchesAsync(
                devices,
                rowsPerInsert,
                rows => connection.InsertRows(transaction, "smi_status_history", HistoryColumns, rows),
                (parameters, row, device) =>
                {
                    var at = HistoryColumnCount * row;
                    parameters[at].Value = device.Id.ToString();
                    parameters[at + 1].Value = device.Status.ToString();
                    parameters[at + 2].Value = since;
                    parameters[at + 3].Value = (object?)change.ServiceReferenceVariant ?? DBNull.Value;
                    parameters[at + 4].Value = (object?)change.User?.ToString() ?? DBNull.Value;
                },
                async (insert, _, _) => await insert.ExecuteNonQueryAsync(cancellationToken),
                cancellationToken);
        }
    }

    public Task<Device?> UpdateDeviceAsync(Eui64 id, Func<Device, Device?> update, InventoryChange change, CancellationToken cancellationToken = default) =>
        UpdateDeviceAsync(id, update, change, static (_, _) => null, cancellationToken);

    public async Task<Device?> UpdateDeviceAsync(Eui64 id, Func<Device, Device?> update, InventoryChange change, Func<Device, Device, PendingAlert?> raises, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(update);
        ArgumentNullException.ThrowIfNull(change);
        ArgumentNullException.ThrowIfNull(raises);
        return await Db.RetryAbortedAsync(async () =>
        {
            await using var connection = await open(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var before = await ReadLockedAsync(connection, transaction, id, cancellationToken);
            if (before is null)
            {
                return null;
            }
            var after = update(before);
            if (after is null || after == before)
            {
                await transaction.RollbackAsync(cancellationToken);
                return before;
            }
            if (after.Id != before.Id || after.Type != before.Type)
            {
                throw new ArgumentException($"an update may not change device {id}'s ID or type", nameof(update));
            }
            await WriteAsync(connection, transaction, before, after, change, lockRows, cancellationToken);
            if (raises(before, after) is { } alert)
            {
                if (alert.Counter is not null)
                {
                    throw new ArgumentException($"alert {alert.Take}: an alert a change raises has no counter to take", nameof(raises));
                }
                await SqlAlertCounterStore.KeepAsync(connection, transaction, alert, cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
            return after;
        }, cancellationToken);
    }

    /// <summary>Writes a device's row as <paramref name="after"/>, and its new SMI status, if it has one, to its history.</summary>
    private static async Task WriteAsync(DbConnection connection, DbTransaction transaction, Device before, Device after, InventoryChange change, bool lockRows, CancellationToken cancellationToken)
    {
        await LockCommsHubsAsync(connection, transaction, [NewlyNamedCommsHub(before, after)], lockRows, cancellationToken);
        var values = ColumnValues(after);
        var names = InsertColumns.Split(", ");
        await using (var write = connection.Command($"UPDATE device SET {string.Join(", ", names.Skip(2).Select((n, i) => $"{n} = @v{i + 2}"))} WHERE id = @v0", transaction))
        {
            for (var i = 0; i < values.Length; i++)
            {
                write.With("@v" + i.ToString(CultureInfo.InvariantCulture), values[i]);
            }
            await write.ExecuteNonQueryAsync(cancellationToken);
        }
        if (after.Status != before.Status)
        {
            await AppendHistoryAsync(connection, transaction, after.Id, after.Status, change, cancellationToken);
        }
    }

    /// <summary>
    /// PostgreSQL's transaction advisory lock that each write that may put a meter in service at a meter point holds
    /// while it checks and writes (the migrator's lock is 4242001, the hub lease 4242002): two such writes (an operator's
    /// import and a logged 12.2, say), each checking before the other commits, would otherwise both pass. Taken before
    /// any device row is locked or inserted, so writes meet it in one order. SQLite's write transactions are one at a
    /// time already (they begin IMMEDIATE).
    /// </summary>
    private const long MeterPointsLock = 4242003;

    private static async Task LockMeterPointsAsync(DbConnection connection, DbTransaction transaction, bool lockRows, CancellationToken cancellationToken)
    {
        if (lockRows)
        {
            await using var take = connection.Command($"SELECT pg_advisory_xact_lock({MeterPointsLock})", transaction);
            await take.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Before <paramref name="added"/> (meters in service with MPANs or an MPRN) are inserted, under <see cref="MeterPointsLock"/>:
    /// each MPAN or MPRN of theirs that another meter in service serves, stored or added earlier in the call, fails the add
    /// (<see cref="MeterPointServedException"/>). The operator's and the fleet's adds check first and say which row;
    /// this is for a meter put there since. A stored device with the ID of one added is left to the duplicate check.
    /// </summary>
    private static async Task RefuseServedMeterPointsAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<Device> added, CancellationToken cancellationToken)
    {
        if (added.Count == 0)
        {
            return;
        }
        var ids = added.Select(d => d.Id).ToHashSet();
        var claimant = new Dictionary<MeterPoint, Device>();
        foreach (var stored in await FindServingAsync(connection, transaction, [.. added.SelectMany(d => d.ServedMeterPoints().Select(m => m.MeterPoint))], cancellationToken))
        {
            if (stored.IsInService && !ids.Contains(stored.Id))
            {
                foreach (var (_, meterPoint) in stored.ServedMeterPoints())
                {
                    claimant.TryAdd(meterPoint, stored);
                }
            }
        }
        foreach (var device in added)
        {
            foreach (var (_, meterPoint) in device.ServedMeterPoints())
            {
                if (!claimant.TryAdd(meterPoint, device) && claimant[meterPoint] is var other && other.Id != device.Id)
                {
                    throw new MeterPointServedException(device.Id, meterPoint, other);
                }
            }
        }
    }

    /// <summary>
    /// On PostgreSQL, the rows of <paramref name="hubs"/> (nulls skipped), locked <c>FOR KEY SHARE</c> until the transaction
    /// ends: the lock a foreign key would take. A comms hub's deletion (<see cref="ApplyAsync(DbConnection, DbTransaction, InventoryWrite, bool, CancellationToken)"/>)
    /// reads its row <c>FOR UPDATE</c> and then looks for a device naming it; without this lock it cannot see a device
    /// another transaction is adding or moving to name it, not yet committed, and both commit. With it, the deletion waits
    /// for that transaction, then finds the device (and is refused); or the namer waits for the deletion, finds no hub,
    /// and names one not in the inventory, as a meter imported before its comms hub may. There is no foreign key for that
    /// reason: the inventory takes devices naming a comms hub it does not hold yet (an import's rows in any order, the
    /// fleet's devices), and stores made before may hold such rows. SQLite's write transactions are one at a time already.
    /// </summary>
    private static async Task LockCommsHubsAsync(DbConnection connection, DbTransaction transaction, IEnumerable<Eui64?> hubs, bool lockRows, CancellationToken cancellationToken)
    {
        if (!lockRows)
        {
            return;
        }
        var ids = hubs.OfType<Eui64>().Distinct().Order().Select(h => h.ToString()).ToList();
        await Db.InBatchesAsync(
            ids,
            IdsPerLookup,
            count => SelectCommand(connection, transaction, "id", count, " FOR KEY SHARE"),
            (parameters, i, id) => parameters[i].Value = id,
            async (select, _, _) => await select.ExecuteNonQueryAsync(cancellationToken),
            cancellationToken);
    }

    /// <summary>The comms hub <paramref name="after"/> names that <paramref name="before"/> did not (a hub naming itself aside), or null.</summary>
    private static Eui64? NewlyNamedCommsHub(Device? before, Device after) =>
        after.CommsHub is { } hub && hub != after.Id && hub != before?.CommsHub ? hub : null;

    /// <summary>
    /// A meter point has one meter in service: a meter newly in service at an MPAN or MPRN (by the write) where another in service
    /// is now fails the write. The request's checks refused it if that meter was there then; this is for the one put there
    /// since (under <see cref="MeterPointsLock"/>, taken by <see cref="ApplyAsync(DbConnection, DbTransaction, IReadOnlyList{MessageLogRecord}, bool, CancellationToken)"/>).
    /// </summary>
    private static async Task RefuseSecondMeterAsync(DbConnection connection, DbTransaction transaction, Device? before, Device after, CancellationToken cancellationToken)
    {
        if (!after.IsInService)
        {
            return;
        }
        var servedBefore = before is { IsInService: true } ? before.ServedMeterPoints().Select(m => m.MeterPoint).ToHashSet() : [];
        var newly = after.ServedMeterPoints().Select(m => m.MeterPoint).Where(m => !servedBefore.Contains(m)).ToHashSet();
        foreach (var other in await FindServingAsync(connection, transaction, newly, cancellationToken))
        {
            if (other.Id != after.Id && other.IsInService)
            {
                var taken = other.ServedMeterPoints().First(m => newly.Contains(m.MeterPoint)).MeterPoint;
                throw new InventoryChangedException(after.Id, $"{taken.Kind} {taken} is served now by {other.Type} {other.Id}, in service");
            }
        }
    }

    /// <summary>
    /// In the message log's transaction: the inventory changes of the accepted requests among <paramref name="records"/>
    /// (<see cref="MessageLogRecord.ChangesInventory"/>), each device read under its row lock first. A device not as its
    /// request's checks found it fails the whole transaction with <see cref="InventoryChangedException"/>.
    /// </summary>
    public static async Task ApplyAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<MessageLogRecord> records, bool lockRows, CancellationToken cancellationToken)
    {
        var writes = records.Select(r => r.ChangesInventory).OfType<InventoryWrite>().ToList();
        if (writes.Any(w => w.Devices.Any(d => d.Becomes is { IsInService: true } becomes && becomes.ServedMeterPoints().Any())))
        {
            await LockMeterPointsAsync(connection, transaction, lockRows, cancellationToken);
        }
        foreach (var write in writes)
        {
            try
            {
                await ApplyAsync(connection, transaction, write, lockRows, cancellationToken);
            }
            catch (InventoryChangedException e) when (e.Write is null)
            {
                throw new InventoryChangedException(e.Id, e.Message) { Write = write };
            }
        }
    }

    private static async Task ApplyAsync(DbConnection connection, DbTransaction transaction, InventoryWrite write, bool lockRows, CancellationToken cancellationToken)
    {
        foreach (var device in write.Devices)
        {
            var stored = await ReadLockedAsync(connection, transaction, device.Id, lockRows, cancellationToken);
            if (stored != device.Found)
            {
                throw new InventoryChangedException(device.Id);
            }
            if (device.Becomes is null && stored is not null)
            {
                // A device named as another's comms hub is not deleted from under it: a request checked before the
                // other named it is checked again (8.4 DeleteDevice then refuses it).
                await using var named = connection.Command("SELECT id FROM device WHERE comms_hub = @id AND id <> @id LIMIT 1", transaction).With("@id", device.Id.ToString());
                if (await named.ExecuteScalarAsync(cancellationToken) is string other)
                {
                    throw new InventoryChangedException(device.Id, $"device {other} names {device.Id} as its comms hub now");
                }
            }
            if (device.Unjoin || device.Becomes is null)
            {
                await using var unjoin = connection.Command("DELETE FROM device_join WHERE device = @id OR other = @id", transaction).With("@id", device.Id.ToString());
                await unjoin.ExecuteNonQueryAsync(cancellationToken);
            }
            if (device.Becomes is null)
            {
                await using var delete = connection.Command("DELETE FROM device WHERE id = @id", transaction).With("@id", device.Id.ToString());
                await delete.ExecuteNonQueryAsync(cancellationToken);
            }
            else if (stored is null)
            {
                await RefuseSecondMeterAsync(connection, transaction, null, device.Becomes, cancellationToken);
                await LockCommsHubsAsync(connection, transaction, [NewlyNamedCommsHub(null, device.Becomes)], lockRows, cancellationToken);
                await using var insert = InsertCommand(connection, transaction, 1);
                var values = ColumnValues(device.Becomes);
                for (var i = 0; i < values.Length; i++)
                {
                    insert.Parameters[i].Value = values[i];
                }
                // A row not there locks nothing: on PostgreSQL another writer (an import) may have added the device
                // meanwhile, and the insert then waited for it and added nothing.
                if (await insert.ExecuteNonQueryAsync(cancellationToken) == 0)
                {
                    throw new InventoryChangedException(device.Id);
                }
                await AppendHistoryAsync(connection, transaction, device.Id, device.Becomes.Status, write.Change, cancellationToken);
            }
            else if (device.Becomes != stored)
            {
                if (device.Becomes.Id != stored.Id || device.Becomes.Type != stored.Type)
                {
                    throw new ArgumentException($"an inventory write may not change device {device.Id}'s ID or type", nameof(write));
                }
                await RefuseSecondMeterAsync(connection, transaction, stored, device.Becomes, cancellationToken);
                await WriteAsync(connection, transaction, stored, device.Becomes, write.Change, lockRows, cancellationToken);
            }
        }
        foreach (var (device, other) in write.Joins)
        {
            await RefuseSecondGpfAsync(connection, transaction, device, other, cancellationToken);
            await RefuseSecondGpfAsync(connection, transaction, other, device, cancellationToken);
            await using var join = connection.Command("INSERT INTO device_join (device, other) VALUES (@a, @b), (@b, @a) ON CONFLICT DO NOTHING", transaction)
                .With("@a", device.ToString()).With("@b", other.ToString());
            await join.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>
    /// A gas meter is reached through one GPF: joining <paramref name="meter"/>, a GSME, to <paramref name="gpf"/>, a GPF,
    /// while it is joined to another GPF fails the write. The request's checks refused it if that pair was there then
    /// (12.2: E41 naming it); this is for the one made since, by a request checked at the same time, which leaves the
    /// meter's row as it was and so passes the check of the devices as found. The meter's row is locked (or, on SQLite,
    /// the database), so of two such writes the second waits for the first and sees its pair.
    /// </summary>
    private static async Task RefuseSecondGpfAsync(DbConnection connection, DbTransaction transaction, Eui64 meter, Eui64 gpf, CancellationToken cancellationToken)
    {
        await using var paired = connection.Command(
                "SELECT j.other FROM device m JOIN device g ON g.id = @gpf JOIN device_join j ON j.device = m.id JOIN device o ON o.id = j.other " +
                "WHERE m.id = @meter AND m.device_type = @gsme AND g.device_type = @gpfType AND o.device_type = @gpfType AND j.other <> @gpf LIMIT 1", transaction)
            .With("@meter", meter.ToString()).With("@gpf", gpf.ToString())
            .With("@gsme", DeviceType.GSME.ToString()).With("@gpfType", DeviceType.GPF.ToString());
        if (await paired.ExecuteScalarAsync(cancellationToken) is string other)
        {
            throw new InventoryChangedException(meter, $"gas meter {meter} is paired with GPF {other} now");
        }
    }

    /// <summary>The device's row, locked until the transaction ends (see the remarks on the class).</summary>
    private Task<Device?> ReadLockedAsync(DbConnection connection, DbTransaction transaction, Eui64 id, CancellationToken cancellationToken) =>
        ReadLockedAsync(connection, transaction, id, lockRows, cancellationToken);

    private static async Task<Device?> ReadLockedAsync(DbConnection connection, DbTransaction transaction, Eui64 id, bool lockRows, CancellationToken cancellationToken)
    {
        await using var select = connection.Command($"SELECT {Columns} FROM device WHERE id = @id{(lockRows ? " FOR UPDATE" : "")}", transaction).With("@id", id.ToString());
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadDevice(reader) : null;
    }

    public async Task<IReadOnlyList<SmiStatusChange>> StatusHistoryAsync(Eui64 id, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command("SELECT status, since, srv, by_user FROM smi_status_history WHERE device = @id ORDER BY id").With("@id", id.ToString());
        return await command.ReadAllAsync(reader => new SmiStatusChange(
            SmiStatuses.Parse(reader.GetString(0)),
            Instant.FromUnixTimeTicks(reader.GetInt64(1)),
            reader.GetNullableString(2),
            reader.IsDBNull(3) ? null : Eui64.Parse(reader.GetString(3))), cancellationToken);
    }

    public async Task<Instant?> FirstEnteredAsync(Eui64 id, SmiStatus status, CancellationToken cancellationToken = default)
    {
        // On the (device, status, id) index: one entry read, however many the device's history holds.
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command("SELECT since FROM smi_status_history WHERE device = @id AND status = @s ORDER BY id LIMIT 1")
            .With("@id", id.ToString()).With("@s", status.ToString());
        return await command.ExecuteScalarAsync(cancellationToken) is { } since and not DBNull ? Instant.FromUnixTimeTicks(Convert.ToInt64(since, CultureInfo.InvariantCulture)) : null;
    }

    public async Task<bool> JoinAsync(Eui64 device, Eui64 other, CancellationToken cancellationToken = default)
    {
        if (device == other)
        {
            throw new ArgumentException($"device {device} cannot be joined to itself", nameof(other));
        }
        return await Db.RetryAbortedAsync(async () =>
        {
            await using var connection = await open(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            // FOR SHARE on PostgreSQL: a device being removed meanwhile is waited for, and then not found (no join is left to a device gone).
            await using (var known = connection.Command("SELECT id FROM device WHERE id IN (@a, @b)" + (lockRows ? " FOR SHARE" : ""), transaction).With("@a", device.ToString()).With("@b", other.ToString()))
            await using (var reader = await known.ExecuteReaderAsync(cancellationToken))
            {
                var found = new HashSet<string>();
                while (await reader.ReadAsync(cancellationToken))
                {
                    found.Add(reader.GetString(0));
                }
                if (!found.Contains(device.ToString()))
                {
                    throw new UnknownDeviceException(device);
                }
                if (!found.Contains(other.ToString()))
                {
                    throw new UnknownDeviceException(other);
                }
            }
            await using var insert = connection.Command("INSERT INTO device_join (device, other) VALUES (@a, @b), (@b, @a) ON CONFLICT DO NOTHING", transaction)
                .With("@a", device.ToString()).With("@b", other.ToString());
            var added = await insert.ExecuteNonQueryAsync(cancellationToken) > 0;
            await transaction.CommitAsync(cancellationToken);
            return added;
        }, cancellationToken);
    }

    public async Task<bool> UnjoinAsync(Eui64 device, Eui64 other, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var delete = connection.Command("DELETE FROM device_join WHERE (device = @a AND other = @b) OR (device = @b AND other = @a)")
            .With("@a", device.ToString()).With("@b", other.ToString());
        return await delete.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task<IReadOnlyList<Eui64>> FindJoinedAsync(Eui64 device, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command("SELECT other FROM device_join WHERE device = @id").With("@id", device.ToString());
        var joined = await command.ReadAllAsync(reader => Eui64.Parse(reader.GetString(0)), cancellationToken);
        joined.Sort();
        return joined;
    }

    public async Task SaveSiteAsync(Site site, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(site);
        await using var connection = await open(cancellationToken);
        await using var upsert = connection.Command(
                "INSERT INTO site (uprn, post_code, address_identifier, lead_supplier) VALUES (@u, @p, @a, @l) " +
                "ON CONFLICT (uprn) DO UPDATE SET post_code = excluded.post_code, address_identifier = excluded.address_identifier, lead_supplier = excluded.lead_supplier")
            .With("@u", site.Uprn.Value).With("@p", site.PostCode).With("@a", site.AddressIdentifier).With("@l", site.LeadSupplier?.ToString());
        await upsert.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<Site?> FindSiteAsync(Uprn uprn, CancellationToken cancellationToken = default)
    {
        var sites = await ReadSitesAsync("uprn = @u", c => c.With("@u", uprn.Value), cancellationToken);
        return sites.Count == 0 ? null : sites[0];
    }

    public Task<IReadOnlyList<Site>> FindSitesByAddressAsync(string postCode, string addressIdentifier, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(addressIdentifier);
        return ReadSitesAsync("post_code = @p AND address_identifier = @a", c => c.With("@p", Site.NormalisePostCode(postCode)).With("@a", addressIdentifier.Trim()), cancellationToken);
    }

    public Task<IReadOnlyList<Device>> FindDevicesAtSiteAsync(Uprn site, CancellationToken cancellationToken = default) =>
        FindWhereAsync("uprn = @v", site.Value, cancellationToken);

    public Task<IReadOnlyList<Device>> FindDevicesOnCommsHubAsync(Eui64 commsHub, CancellationToken cancellationToken = default) =>
        FindWhereAsync("comms_hub = @v OR id = @v", commsHub.ToString(), cancellationToken);

    private async Task<IReadOnlyList<Site>> ReadSitesAsync(string where, Action<DbCommand> bind, CancellationToken cancellationToken)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command($"SELECT uprn, post_code, address_identifier, lead_supplier FROM site WHERE {where} ORDER BY uprn");
        bind(command);
        return await command.ReadAllAsync(reader => Site.Stored(new Uprn(reader.GetInt64(0)), reader.GetNullableString(1), reader.GetNullableString(2), reader.IsDBNull(3) ? null : Eui64.Parse(reader.GetString(3))), cancellationToken);
    }

    private const string HistoryColumns = "device, status, since, srv, by_user";

    private const int HistoryColumnCount = 5;

    private static async Task AppendHistoryAsync(DbConnection connection, DbTransaction transaction, Eui64 id, SmiStatus status, InventoryChange change, CancellationToken cancellationToken)
    {
        await using var insert = connection.Command("INSERT INTO smi_status_history (device, status, since, srv, by_user) VALUES (@d, @s, @t, @v, @u)", transaction)
            .With("@d", id.ToString()).With("@s", status.ToString()).With("@t", change.At.ToUnixTimeTicks())
            .With("@v", change.ServiceReferenceVariant).With("@u", change.User?.ToString());
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The values of <see cref="InsertColumns"/> for a device, in order.</summary>
    private static object[] ColumnValues(Device device) =>
    [
        device.Id.ToString(),
        device.Type.ToString(),
        device.Status.ToString(),
        (object?)device.Model ?? DBNull.Value,
        (object?)device.CommsHub?.ToString() ?? DBNull.Value,
        (object?)device.Region?.ToString() ?? DBNull.Value,
        (object?)device.Mpan?.ToString() ?? DBNull.Value,
        (object?)device.Mprn?.ToString() ?? DBNull.Value,
        (object?)device.Manufacturer ?? DBNull.Value,
        (object?)device.FirmwareVersion ?? DBNull.Value,
        (object?)device.SmetsChtsVersion ?? DBNull.Value,
        (object?)device.Uprn?.Value ?? DBNull.Value,
        (object?)device.RadioCell ?? DBNull.Value,
        (object?)device.SecondaryImportMpan?.ToString() ?? DBNull.Value,
        (object?)device.ExportMpan?.ToString() ?? DBNull.Value,
        (object?)device.Mpan?.Distributor.GspGroup?.ToString() ?? DBNull.Value,
    ];

    public async Task<Device?> FindDeviceAsync(Eui64 id, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command($"SELECT {Columns} FROM device WHERE id = @id").With("@id", id.ToString());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadDevice(reader) : null;
    }

    public Task<IReadOnlyList<Device>> FindDevicesAsync(IReadOnlyCollection<Eui64> ids, CancellationToken cancellationToken = default) =>
        FindWhereInAsync("id", ids, id => id.ToString(), cancellationToken);

    public async Task<IReadOnlyList<Device>> FindDevicesServingAsync(IReadOnlyCollection<MeterPoint> meterPoints, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(meterPoints);
        await using var connection = await open(cancellationToken);
        return await FindServingAsync(connection, null, meterPoints, cancellationToken);
    }

    /// <summary>
    /// The devices with any of <paramref name="meterPoints"/> as import, secondary import or export MPAN or as MPRN,
    /// each once, by ID.
    /// </summary>
    private static async Task<IReadOnlyList<Device>> FindServingAsync(DbConnection connection, DbTransaction? transaction, IReadOnlyCollection<MeterPoint> meterPoints, CancellationToken cancellationToken)
    {
        // Each column on its own index; a meter found by two of its MPANs is listed once.
        var mpans = meterPoints.Select(m => m.Mpan?.ToString()).OfType<string>().ToList();
        var mprns = meterPoints.Select(m => m.Mprn?.ToString()).OfType<string>().ToList();
        var found = new Dictionary<Eui64, Device>();
        foreach (var (column, values) in new[] { ("mpan", mpans), ("secondary_import_mpan", mpans), ("export_mpan", mpans), ("mprn", mprns) })
        {
            foreach (var device in await FindWhereInAsync(connection, transaction, column, values, text => text, cancellationToken))
            {
                found[device.Id] = device;
            }
        }
        return [.. found.Values.OrderBy(d => d.Id)];
    }

    public Task<IReadOnlyList<Device>> FindDevicesInGspGroupAsync(GspGroup group, CancellationToken cancellationToken = default) =>
        FindWhereAsync("gsp_group = @v", group.ToString(), cancellationToken);

    private async Task<IReadOnlyList<Device>> FindWhereAsync(string where, object value, CancellationToken cancellationToken)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command($"SELECT {Columns} FROM device WHERE {where} ORDER BY id").With("@v", value);
        return await command.ReadAllAsync(ReadDevice, cancellationToken);
    }

    public async Task<IReadOnlyList<Device>> ListDevicesAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command($"SELECT {Columns} FROM device ORDER BY id");
        return await command.ReadAllAsync(ReadDevice, cancellationToken);
    }

    public async Task<IReadOnlyList<Device>> ListDevicesAfterAsync(Eui64? after, int max, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        await using var connection = await open(cancellationToken);
        // Keyset, not OFFSET: each page is an index seek on the primary key, however far into the table it starts.
        await using var command = after is { } id
            ? connection.Command($"SELECT {Columns} FROM device WHERE id > @after ORDER BY id LIMIT @max").With("@after", id.ToString()).With("@max", max)
            : connection.Command($"SELECT {Columns} FROM device ORDER BY id LIMIT @max").With("@max", max);
        return await command.ReadAllAsync(ReadDevice, cancellationToken);
    }

    public async Task<long> CountDevicesAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command("SELECT COUNT(*) FROM device");
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    /// <summary>The devices whose <paramref name="column"/> is one of the values, in ID order, in a few lookups.</summary>
    private async Task<IReadOnlyList<Device>> FindWhereInAsync<T>(string column, IReadOnlyCollection<T> values, Func<T, string> text, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
        {
            return [];
        }
        await using var connection = await open(cancellationToken);
        return await FindWhereInAsync(connection, null, column, values, text, cancellationToken);
    }

    private static async Task<IReadOnlyList<Device>> FindWhereInAsync<T>(DbConnection connection, DbTransaction? transaction, string column, IReadOnlyCollection<T> values, Func<T, string> text, CancellationToken cancellationToken)
    {
        var devices = new List<Device>();
        await Db.InBatchesAsync(
            [.. values.Distinct()],
            IdsPerLookup,
            count => SelectCommand(connection, transaction, column, count),
            (parameters, i, value) => parameters[i].Value = text(value),
            async (select, _, _) => devices.AddRange(await select.ReadAllAsync(ReadDevice, cancellationToken)),
            cancellationToken);
        devices.Sort((a, b) => a.Id.CompareTo(b.Id));
        return devices;
    }

    /// <summary><c>SELECT … FROM device WHERE <paramref name="column"/> IN (@p0, …)</c> for <paramref name="values"/> values, bound later, then <paramref name="suffix"/>.</summary>
    private static DbCommand SelectCommand(DbConnection connection, DbTransaction? transaction, string column, int values, string suffix = "")
    {
        var names = Enumerable.Range(0, values).Select(i => "@p" + i.ToString(CultureInfo.InvariantCulture)).ToList();
        var command = connection.Command($"SELECT {Columns} FROM device WHERE {column} IN ({string.Join(", ", names)}){suffix}", transaction);
        foreach (var name in names)
        {
            command.With(name, null);
        }
        return command;
    }

    /// <summary>An insert of <paramref name="rows"/> devices that adds none whose ID is known, values bound later (<see cref="Db.InsertRows"/>).</summary>
    private static DbCommand InsertCommand(DbConnection connection, DbTransaction transaction, int rows) =>
        connection.InsertRows(transaction, "device", InsertColumns, rows, " ON CONFLICT (id) DO NOTHING");

    private static Device ReadDevice(DbDataReader r) =>
        new(Eui64.Parse(r.GetString(0)), DeviceTypes.Parse(r.GetString(1)), SmiStatuses.Parse(r.GetString(2)))
        {
            Model = r.IsDBNull(3) ? null : r.GetString(3),
            CommsHub = r.IsDBNull(4) ? null : Eui64.Parse(r.GetString(4)),
            Region = r.IsDBNull(5) ? null : Enum.Parse<OpenDcc.Core.Wan.WanRegion>(r.GetString(5)),
            Mpan = r.IsDBNull(6) ? null : Mpan.Parse(r.GetString(6)),
            Mprn = r.IsDBNull(7) ? null : Mprn.Parse(r.GetString(7)),
            Manufacturer = r.GetNullableString(8),
            FirmwareVersion = r.GetNullableString(9),
            SmetsChtsVersion = r.GetNullableString(10),
            Uprn = r.IsDBNull(11) ? null : new Uprn(r.GetInt64(11)),
            RadioCell = r.GetNullableString(12),
            SecondaryImportMpan = r.IsDBNull(13) ? null : Mpan.Parse(r.GetString(13)),
            ExportMpan = r.IsDBNull(14) ? null : Mpan.Parse(r.GetString(14)),
        };
}

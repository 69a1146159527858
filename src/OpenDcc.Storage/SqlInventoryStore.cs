using System.Data.Common;
using System.Globalization;
using System.Text;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;

namespace OpenDcc.Storage;

/// <summary>
/// The smart metering inventory in plain SQL that SQLite and PostgreSQL both speak. Bulk adds run in one
/// transaction through one prepared <c>INSERT</c> of <paramref name="rowsPerInsert"/> rows, reused for every batch:
/// one row suits in-process SQLite, where a statement costs microseconds; a few hundred suit PostgreSQL, where each
/// statement costs a round trip.
/// </summary>
internal sealed class SqlInventoryStore(Func<CancellationToken, Task<DbConnection>> open, int rowsPerInsert) : IInventoryStore
{
    private const string Columns = "id, device_type, smi_status, model, comms_hub, wan_region, mpan, mprn";

    // What an insert writes: the columns read back, and the GSP group of the MPAN, kept for queries by group.
    private const string InsertColumns = Columns + ", gsp_group";
    private static readonly string[] InsertPrefixes = ["@i", "@t", "@s", "@m", "@h", "@r", "@e", "@g", "@p"];

    // IDs per IN list when looking up many devices: few round trips, far below either engine's parameter limit.
    private const int IdsPerLookup = 500;

    public Task AddDeviceAsync(Device device, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(device);
        return AddDevicesAsync([device], cancellationToken);
    }

    public async Task AddDevicesAsync(IReadOnlyList<Device> devices, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(devices);
        if (devices.Count == 0)
        {
            return;
        }
        var seen = new HashSet<Eui64>(devices.Count);
        var repeated = devices.Where(d => !seen.Add(d.Id)).Select(d => d.Id).Distinct().ToList();
        if (repeated.Count > 0)
        {
            throw new ArgumentException($"the devices to add name {string.Join(", ", repeated.Take(5))}{(repeated.Count > 5 ? ", …" : "")} more than once", nameof(devices));
        }

        await using var connection = await open(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // ON CONFLICT DO NOTHING skips a known ID instead of failing, so every batch still runs and the IDs of the
        // batches that came up short are all the suspects; the transaction is then rolled back, leaving nothing added.
        var suspects = new List<Eui64>();
        await InBatchesAsync(
            devices,
            rowsPerInsert,
            rows => InsertCommand(connection, transaction, rows),
            (parameters, row, device) =>
            {
                var at = InsertPrefixes.Length * row;
                parameters[at].Value = device.Id.ToString();
                parameters[at + 1].Value = device.Type.ToString();
                parameters[at + 2].Value = device.Status.ToString();
                parameters[at + 3].Value = (object?)device.Model ?? DBNull.Value;
                parameters[at + 4].Value = (object?)device.CommsHub?.ToString() ?? DBNull.Value;
                parameters[at + 5].Value = (object?)device.Region?.ToString() ?? DBNull.Value;
                parameters[at + 6].Value = (object?)device.Mpan?.ToString() ?? DBNull.Value;
                parameters[at + 7].Value = (object?)device.Mprn?.ToString() ?? DBNull.Value;
                parameters[at + 8].Value = (object?)device.Mpan?.Distributor.GspGroup?.ToString() ?? DBNull.Value;
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
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<Device?> FindDeviceAsync(Eui64 id, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command($"SELECT {Columns} FROM device WHERE id = @id").With("@id", id.ToString());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadDevice(reader) : null;
    }

    public Task<IReadOnlyList<Device>> FindDevicesAsync(IReadOnlyCollection<Eui64> ids, CancellationToken cancellationToken = default) =>
        FindWhereInAsync("id", ids, id => id.ToString(), cancellationToken);

    public Task<IReadOnlyList<Device>> FindDevicesByMpanAsync(IReadOnlyCollection<Mpan> mpans, CancellationToken cancellationToken = default) =>
        FindWhereInAsync("mpan", mpans, mpan => mpan.ToString(), cancellationToken);

    public async Task<IReadOnlyList<Device>> FindDevicesInGspGroupAsync(GspGroup group, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command($"SELECT {Columns} FROM device WHERE gsp_group = @g ORDER BY id").With("@g", group.ToString());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var devices = new List<Device>();
        while (await reader.ReadAsync(cancellationToken))
        {
            devices.Add(ReadDevice(reader));
        }
        return devices;
    }

    public async Task<IReadOnlyList<Device>> ListDevicesAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command($"SELECT {Columns} FROM device ORDER BY id");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var devices = new List<Device>();
        while (await reader.ReadAsync(cancellationToken))
        {
            devices.Add(ReadDevice(reader));
        }
        return devices;
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
        var devices = new List<Device>();
        if (values.Count == 0)
        {
            return devices;
        }
        await using var connection = await open(cancellationToken);
        await InBatchesAsync(
            [.. values.Distinct()],
            IdsPerLookup,
            count => SelectCommand(connection, column, count),
            (parameters, i, value) => parameters[i].Value = text(value),
            async (select, _, _) =>
            {
                await using var reader = await select.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    devices.Add(ReadDevice(reader));
                }
            },
            cancellationToken);
        devices.Sort((a, b) => a.Id.CompareTo(b.Id));
        return devices;
    }

    /// <summary><c>SELECT … FROM device WHERE <paramref name="column"/> IN (@p0, …)</c> for <paramref name="values"/> values, bound later.</summary>
    private static DbCommand SelectCommand(DbConnection connection, string column, int values)
    {
        var names = Enumerable.Range(0, values).Select(i => "@p" + i.ToString(CultureInfo.InvariantCulture)).ToList();
        var command = connection.Command($"SELECT {Columns} FROM device WHERE {column} IN ({string.Join(", ", names)})");
        foreach (var name in names)
        {
            command.With(name, null);
        }
        return command;
    }

    /// <summary>
    /// Runs a statement over the items in batches of <paramref name="size"/>: one command of that size, prepared once
    /// when it will run more than once and rebound for each batch, then one sized for what is left.
    /// </summary>
    private static async Task InBatchesAsync<T>(
        IReadOnlyList<T> items,
        int size,
        Func<int, DbCommand> statement,
        Action<DbParameterCollection, int, T> bind,
        Func<DbCommand, int, int, Task> execute,
        CancellationToken cancellationToken)
    {
        var offset = 0;
        while (offset < items.Count)
        {
            var count = Math.Min(size, items.Count - offset);
            await using var command = statement(count);
            var prepare = items.Count - offset >= 2 * count;
            do
            {
                for (var i = 0; i < count; i++)
                {
                    bind(command.Parameters, i, items[offset + i]);
                }
                if (prepare)
                {
                    await command.PrepareAsync(cancellationToken);
                    prepare = false;
                }
                await execute(command, offset, count);
                offset += count;
            }
            while (items.Count - offset >= count);
        }
    }

    /// <summary><c>INSERT … VALUES (@i0, @t0, …), (@i1, …) …</c> with its parameters, values bound later.</summary>
    private static DbCommand InsertCommand(DbConnection connection, DbTransaction transaction, int rows)
    {
        var sql = new StringBuilder($"INSERT INTO device ({InsertColumns}) VALUES ");
        var command = connection.Command("", transaction);
        for (var row = 0; row < rows; row++)
        {
            var n = row.ToString(CultureInfo.InvariantCulture);
            sql.Append(row == 0 ? "(" : ", (").AppendJoin(", ", InsertPrefixes.Select(p => p + n)).Append(')');
            foreach (var prefix in InsertPrefixes)
            {
                command.With(prefix + n, null);
            }
        }
        command.CommandText = sql.Append(" ON CONFLICT (id) DO NOTHING").ToString();
        return command;
    }

    private static Device ReadDevice(DbDataReader r) =>
        new(Eui64.Parse(r.GetString(0)), DeviceTypes.Parse(r.GetString(1)), SmiStatuses.Parse(r.GetString(2)))
        {
            Model = r.IsDBNull(3) ? null : r.GetString(3),
            CommsHub = r.IsDBNull(4) ? null : Eui64.Parse(r.GetString(4)),
            Region = r.IsDBNull(5) ? null : Enum.Parse<OpenDcc.Core.Wan.WanRegion>(r.GetString(5)),
            Mpan = r.IsDBNull(6) ? null : Mpan.Parse(r.GetString(6)),
            Mprn = r.IsDBNull(7) ? null : Mprn.Parse(r.GetString(7)),
        };
}

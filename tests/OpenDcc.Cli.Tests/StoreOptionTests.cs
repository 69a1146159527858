using OpenDcc.Core.Wan;
using OpenDcc.Hub;

namespace OpenDcc.Cli.Tests;

/// <summary>A store the commands cannot use is the fault of the option that names it, for the commands that take it and for the hub.</summary>
public sealed class StoreOptionTests : IDisposable
{
    private readonly CliRun cli = new();

    [Theory]
    [InlineData("users", "list")]
    [InlineData("serve", "--sites", "1")]
    [InlineData("demo", "--no-wait")]
    public async Task A_data_directory_that_is_a_file_is_refused_naming_data(params string[] command)
    {
        var file = Path.Combine(cli.DataDirectory, "a-file");
        Directory.CreateDirectory(cli.DataDirectory);
        await File.WriteAllTextAsync(file, "not a directory");
        var (code, _, error) = await cli.RunAsync([.. command, "--data", file]);
        Assert.Equal(1, code);
        Assert.Contains($"opendcc: --data: {file} is a file, not a directory", error, StringComparison.Ordinal);
        Assert.Equal("not a directory", await File.ReadAllTextAsync(file));
    }

    [Theory]
    [InlineData("users", "list")]
    [InlineData("serve", "--sites", "1", "--urls", "http://127.0.0.1:0")]
    public async Task A_database_file_that_is_not_a_database_is_refused_naming_data_and_left_as_it_was(params string[] command)
    {
        Directory.CreateDirectory(cli.DataDirectory);
        var database = Path.Combine(cli.DataDirectory, "opendcc.db");
        var garbage = Enumerable.Range(0, 8192).Select(i => (byte)(i * 31)).ToArray();
        await File.WriteAllBytesAsync(database, garbage);
        // The hub's own ports free, so that its store is what it stops at.
        string[] ports = command[0] == "serve" ? ["--silo-port", $"{LoopbackPorts.Free()}", "--gateway-port", $"{LoopbackPorts.Free()}"] : [];
        var (code, _, error) = await cli.RunAsync([.. command, .. ports, "--data", cli.DataDirectory]);
        Assert.Equal(1, code);
        Assert.StartsWith($"opendcc: --data {cli.DataDirectory}: ", error, StringComparison.Ordinal);
        Assert.Contains("not a database", error, StringComparison.Ordinal);
        Assert.Equal(garbage, await File.ReadAllBytesAsync(database));
    }

    [Theory]
    [InlineData("users", "list")]
    [InlineData("users", "response-url", "--id", "90-B3-D5-1F-30-01-00-00")]
    [InlineData("inventory", "list")]
    [InlineData("inventory", "models", "list")]
    [InlineData("log", "verify")]
    [InlineData("delivery", "failed")]
    [InlineData("delivery", "unanswered")]
    public async Task A_command_that_reads_the_store_refuses_a_data_directory_without_one_and_makes_nothing_there(params string[] command)
    {
        var typo = Path.Combine(cli.DataDirectory, "mistyped");
        var (code, output, error) = await cli.RunAsync([.. command, "--data", typo]);
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Equal($"opendcc: --data {typo}: no OpenDcc store there (serve, demo, users add, inventory add|import, inventory site set, inventory models add|import or wan coverage import start one){Environment.NewLine}", error);
        Assert.False(Directory.Exists(typo));
    }

    [Theory]
    [InlineData("users add", null, "users", "add", "--id", "90-B3-D5-1F-30-01-00-00", "--role", "IS", "--name", "Supplier")]
    [InlineData("inventory add", null, "inventory", "add", "--device", "00-DB-12-34-56-78-90-A0", "--type", "ESME")]
    [InlineData("inventory add|import", "device_id,device_type\n00-DB-12-34-56-78-90-A0,ESME", "inventory", "import")]
    [InlineData("inventory site set", null, "inventory", "site", "set", "--uprn", "100023336956")]
    [InlineData("inventory models add", null, "inventory", "models", "add", "--manufacturer", "AB01", "--model", "010A030B")]
    [InlineData("inventory models add|import", "manufacturer,model\nAB01,010A030B", "inventory", "models", "import")]
    [InlineData("wan coverage import", WanCoverage.CsvHeader + "\nIV,North,yes,,Long Range Radio,Medium,,", "wan", "coverage", "import")]
    public async Task Each_command_the_refusal_names_starts_a_store_where_there_is_none(string named, string? csv, params string[] command)
    {
        var fresh = Path.Combine(cli.DataDirectory, "fresh");
        if (csv is not null)
        {
            Directory.CreateDirectory(cli.DataDirectory);
            var file = Path.Combine(cli.DataDirectory, "import.csv");
            await File.WriteAllTextAsync(file, csv + "\n");
            command = [.. command, file];
        }

        var (code, _, error) = await cli.RunAsync([.. command, "--data", fresh]);

        Assert.True(code == 0, error);
        Assert.True(File.Exists(Path.Combine(fresh, "opendcc.db")));
        Assert.Contains(named, CliContext.StoreStarters, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("users", "list")]
    [InlineData("users", "add", "--id", "90-B3-D5-1F-30-01-00-00", "--name", "Supplier", "--role", "IS")]
    [InlineData("inventory", "add", "--device", "00-DB-12-34-56-78-90-A0", "--type", "ESME")]
    public async Task A_command_refuses_an_empty_store_file_and_leaves_it_as_it_is_even_one_that_would_start_a_store(params string[] command)
    {
        var cut = Path.Combine(cli.DataDirectory, "cut");
        Directory.CreateDirectory(cut);
        var database = Path.Combine(cut, "opendcc.db");
        await File.WriteAllBytesAsync(database, []);

        var (code, output, error) = await cli.RunAsync([.. command, "--data", cut]);

        Assert.Equal((1, ""), (code, output));
        Assert.Equal($"opendcc: --data {cut}: opendcc.db is empty (0 bytes): not an OpenDcc store (restore it from a backup, or remove it to start a new one){Environment.NewLine}", error);
        Assert.Equal(0, new FileInfo(database).Length);
    }

    [Fact]
    public async Task A_command_that_adds_starts_a_store_where_there_was_none()
    {
        var fresh = Path.Combine(cli.DataDirectory, "fresh");
        var (code, _, error) = await cli.RunAsync("users", "add", "--id", "90-B3-D5-1F-30-01-00-00", "--role", "IS", "--name", "A supplier", "--data", fresh);
        Assert.True(code == 0, error);
        var (listed, output, _) = await cli.RunAsync("users", "list", "--data", fresh);
        Assert.Equal(0, listed);
        Assert.Contains("A supplier", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("users", "list")]
    [InlineData("log", "verify")]
    [InlineData("users", "add", "--id", "90-B3-D5-1F-30-01-00-00", "--role", "IS", "--name", "A supplier")]
    [InlineData("serve", "--sites", "1")]
    public async Task An_empty_postgres_option_is_refused_and_no_sqlite_store_is_used_instead(params string[] command)
    {
        var data = Path.Combine(cli.DataDirectory, "unused");
        var (code, _, error) = await cli.RunAsync([.. command, "--postgres", " ", "--data", data]);
        Assert.Equal(1, code);
        Assert.StartsWith("opendcc: --postgres: give a connection string", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(data));
    }

    [Theory]
    [InlineData("not a connection string", "the connection string does not read: Format of the initialization string")]
    [InlineData("Host=127.0.0.1;Port=99999", "the connection string's port is out of range")]
    [InlineData("Host=127.0.0.1;Port=abc", "the connection string's port does not read: The input string 'abc' was not in a correct format.")]
    [InlineData("Host=127.0.0.1;Timeout=-4", "the connection string's timeout is out of range (-4)")]
    [InlineData("Host=127.0.0.1;Colour=blue", "the connection string names colour, which is not a setting of a PostgreSQL connection")]
    [InlineData("Host=127.0.0.1;Port={port};Database=x;Timeout=5", "Failed to connect to 127.0.0.1:")]
    public async Task A_postgres_store_that_cannot_be_used_is_refused_naming_postgres(string connection, string fault)
    {
        // A port nothing listens on.
        connection = connection.Replace("{port}", LoopbackPorts.Free().ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        foreach (var command in new[]
        {
            new[] { "users", "list", "--postgres", connection },
            ["serve", "--data", cli.DataDirectory, "--postgres", connection, "--sites", "1", "--urls", $"http://127.0.0.1:{LoopbackPorts.Free()}", "--silo-port", $"{LoopbackPorts.Free()}", "--gateway-port", $"{LoopbackPorts.Free()}"],
        })
        {
            var (code, _, error) = await cli.RunAsync(command);
            Assert.Equal(1, code);
            Assert.Contains($"opendcc: --postgres: {fault}", error, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_postgres_server_that_never_answers_is_named_when_the_connection_times_out(bool backlogFull)
    {
        // Connections are taken (the listen backlog) and never answered; with the backlog full, the TCP connect
        // itself goes unanswered (Linux drops the SYN), which Npgsql reports at another step.
        using var silent = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        silent.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        silent.Listen(0);
        var port = ((System.Net.IPEndPoint)silent.LocalEndPoint!).Port;
        var fillers = new List<System.Net.Sockets.Socket>();
        try
        {
            while (backlogFull && fillers.Count < 4)
            {
                var filler = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                fillers.Add(filler);
                _ = filler.ConnectAsync(System.Net.IPAddress.Loopback, port);
            }
            var (code, _, error) = await cli.RunAsync("users", "list", "--postgres", $"Host=127.0.0.1;Port={port};Username=x;Database=y;Timeout=2");
            Assert.Equal(1, code);
            Assert.Equal($"opendcc: --postgres: no answer from 127.0.0.1:{port} within 2 s (the connection string's Timeout)", error.Trim());
        }
        finally
        {
            fillers.ForEach(filler => filler.Dispose());
        }
    }

    public void Dispose() => cli.Dispose();
}

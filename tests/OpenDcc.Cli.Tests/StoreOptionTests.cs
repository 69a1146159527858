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
        var (code, _, error) = await cli.RunAsync([.. command, "--data", cli.DataDirectory]);
        Assert.Equal(1, code);
        Assert.StartsWith($"opendcc: --data {cli.DataDirectory}: ", error, StringComparison.Ordinal);
        Assert.Contains("not a database", error, StringComparison.Ordinal);
        Assert.Equal(garbage, await File.ReadAllBytesAsync(database));
    }

    [Theory]
    [InlineData("not a connection string", "Format of the initialization string")]
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

    public void Dispose() => cli.Dispose();
}

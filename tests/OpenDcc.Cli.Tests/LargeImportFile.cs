using OpenDcc.Core.Identifiers;

namespace OpenDcc.Cli.Tests;

/// <summary>Import files of more rows than an import checks and writes at a time (5,000), for the tests on either engine.</summary>
internal static class LargeImportFile
{
    public const string Header = "device_id,device_type";

    /// <summary>The ID of the ESME a large file has on <paramref name="line"/>.</summary>
    public static string Id(int line) => new Eui64(0x00DB_0000_0000_0000UL + (ulong)line).ToString();

    /// <summary>
    /// Writes a file of the header and ESMEs on lines 2 to <paramref name="lastLine"/>, with <paramref name="replaced"/>
    /// in place of the ESME of each line named.
    /// </summary>
    public static string Write(string path, int lastLine, params (int Line, string Row)[] replaced)
    {
        var rows = replaced.ToDictionary(r => r.Line, r => r.Row);
        File.WriteAllLines(path, [Header, .. Enumerable.Range(2, lastLine - 1).Select(line => rows.GetValueOrDefault(line) ?? $"{Id(line)},ESME")]);
        return path;
    }
}

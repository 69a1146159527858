using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using System.Text.RegularExpressions;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Interop.Tests.Tooling;

/// <summary>The signing tool's two entry points.</summary>
public enum SigningTool
{
    Sign,
    Validate,
}

/// <summary>
/// The public DCC Boxed tooling, driven from the tests: the RTDS request templates (<c>@smartdcc/duis-templates</c>),
/// the XML signing tool (<c>tool.jar</c> from <c>@smartdcc/duis-sign-wrap</c>) and the DUIS parser
/// (<c>@smartdcc/duis-parser</c>). They are GPL-3.0 and installed at test time by <c>npm ci</c> (./test.sh); OpenDcc
/// only runs them as external programs and commits none of their code, templates, keys or certificates.
/// </summary>
public sealed partial class DccTooling : IDisposable
{
    public const string NodeModulesVariable = "OPENDCC_NODE_MODULES";

    private readonly string toolsDirectory = Path.Combine(AppContext.BaseDirectory, "tools");
    private readonly string workDirectory = Path.Combine(Path.GetTempPath(), "opendcc-interop-" + Guid.NewGuid().ToString("N"));
    private readonly Lazy<IReadOnlyList<RtdsTemplate>> templates;
    private readonly Lazy<Zaz1Identities> identities;
    private readonly Lazy<string> java = new(() => FindProgram("java", "a Java runtime (./test.sh installs default-jre-headless)"));
    private readonly Lazy<string> node = new(() => FindProgram("node", "Node.js (./test.sh installs nodejs and npm)"));
    private readonly SemaphoreSlim hostSlots;
    private readonly ConcurrentBag<SigningToolHost> idleHosts = [];
    private readonly ConcurrentBag<SigningToolHost> allHosts = [];
    private long lastCounter = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <param name="nodeModules">The <c>node_modules</c> folder holding the <c>@smartdcc</c> packages.</param>
    /// <param name="parallelism">How many signing tool JVMs may run at once; default one per processor.</param>
    /// <exception cref="DccToolingMissingException">the packages are not installed there.</exception>
    public DccTooling(string nodeModules, int? parallelism = null)
    {
        NodeModules = Path.GetFullPath(nodeModules);
        foreach (var file in new[] { SigningToolJar, Path.Combine(TemplatesDirectory, "ECS17b_4.1.1_SINGLE_SUCCESS_REQUEST_DUIS.XML"), Path.Combine(NodeModules, "@smartdcc", "duis-parser", "package.json") })
        {
            if (!File.Exists(file))
            {
                throw new DccToolingMissingException(
                    $"the DCC Boxed tools are not installed: {file} is missing. Run ./test.sh, which runs npm ci " +
                    $"(or run npm ci in the repository root; {NodeModulesVariable} names another node_modules folder).");
            }
        }
        Parallelism = parallelism ?? Environment.ProcessorCount;
        hostSlots = new SemaphoreSlim(Parallelism, Parallelism);
        templates = new(LoadTemplates);
        identities = new(ExtractIdentities);
    }

    /// <summary>
    /// The tooling in <c>$OPENDCC_NODE_MODULES</c>, or else in the <c>node_modules</c> folder of the repository the
    /// tests run from (the folder holding <c>OpenDcc.slnx</c>).
    /// </summary>
    public static DccTooling Locate(int? parallelism = null)
    {
        var configured = Environment.GetEnvironmentVariable(NodeModulesVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return new DccTooling(configured, parallelism);
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OpenDcc.slnx")))
            {
                return new DccTooling(Path.Combine(dir.FullName, "node_modules"), parallelism);
            }
        }
        throw new DccToolingMissingException(
            $"no node_modules folder: {NodeModulesVariable} is not set and no OpenDcc.slnx above {AppContext.BaseDirectory}. Run ./test.sh, which runs npm ci.");
    }

    public string NodeModules { get; }

    public string SigningToolJar => Path.Combine(NodeModules, "@smartdcc", "duis-sign-wrap", "dist", "tool.jar");

    public string TemplatesDirectory => Path.Combine(NodeModules, "@smartdcc", "duis-templates", "templates");

    public int Parallelism { get; }

    /// <summary>Every RTDS request template, in file-name order.</summary>
    public IReadOnlyList<RtdsTemplate> Templates => templates.Value;

    /// <summary>The devices the templates address, with a guessed type; see <see cref="RtdsDevice.From"/>.</summary>
    public IReadOnlyList<RtdsDevice> RtdsDevices => RtdsDevice.From(Templates, ServiceCatalogue.Duis);

    /// <summary>The ZAZ1 XmlSign certificates and keys, extracted from the signing tool on first use into a temporary folder.</summary>
    public Zaz1Identities Identities => identities.Value;

    /// <summary>
    /// Signs a DUIS request as its originator (the first EUI-64 of its RequestID) with the tool's bundled ZAZ1 key.
    /// </summary>
    /// <param name="preserveCounter">
    /// true: keep the RequestID counter. false: give the request a fresh counter, unique in this run and never below
    /// the current Unix time in milliseconds. That is what the tool writes itself, except that the tool repeats a
    /// counter when two signatures fall in the same millisecond, which parallel signing makes routine; so the harness
    /// picks the counter and tells the tool to keep it.
    /// </param>
    /// <exception cref="SigningToolException">the tool refused the request (e.g. no key for its originator).</exception>
    public async Task<string> SignAsync(string xml, bool preserveCounter, CancellationToken cancellationToken = default)
    {
        var result = await TrySignAsync(xml, preserveCounter, cancellationToken);
        return result.Succeeded ? result.Output : throw new SigningToolException(result);
    }

    /// <summary>As <see cref="SignAsync"/>, but returns the tool's refusal instead of throwing it.</summary>
    public Task<ToolResult> TrySignAsync(string xml, bool preserveCounter, CancellationToken cancellationToken = default) =>
        RunToolAsync(SigningTool.Sign, preserveCounter ? xml : WithCounter(xml, NextCounter()), ["--preserveCounter"], cancellationToken);

    /// <summary>Signs many requests, <see cref="Parallelism"/> at a time; results in input order.</summary>
    public async Task<IReadOnlyList<ToolResult>> SignManyAsync(IEnumerable<string> xmls, bool preserveCounter, CancellationToken cancellationToken = default) =>
        await Task.WhenAll(xmls.Select(x => TrySignAsync(x, preserveCounter, cancellationToken)));

    /// <summary>
    /// Checks a signed DUIS message as a DCC user's tooling does: XSD validation, then the signature against the
    /// bundled certificate whose serial number the signature names. Exit 0 with the message, without its
    /// signature, on standard output; 10 when validation fails.
    /// </summary>
    public Task<ToolResult> ValidateAsync(string signedXml, CancellationToken cancellationToken = default) =>
        RunToolAsync(SigningTool.Validate, signedXml, [], cancellationToken);

    /// <summary>Validates many messages, <see cref="Parallelism"/> at a time; results in input order.</summary>
    public async Task<IReadOnlyList<ToolResult>> ValidateManyAsync(IEnumerable<string> signedXmls, CancellationToken cancellationToken = default) =>
        await Task.WhenAll(signedXmls.Select(x => ValidateAsync(x, cancellationToken)));

    /// <summary>
    /// Runs the tool exactly as <c>@smartdcc/duis-sign-wrap</c> does, one JVM per message
    /// (<c>java -cp tool.jar uk.co.smartdcc.boxed.xmldsig.TOOL - [options]</c>). About a second a call: for checking
    /// that the long-running host behaves the same, not for bulk work.
    /// </summary>
    public async Task<ToolResult> RunCommandLineAsync(SigningTool tool, string xml, IReadOnlyList<string> options, CancellationToken cancellationToken = default)
    {
        var (code, output, error) = await ExternalProcess.RunAsync(
            java.Value, ["-cp", SigningToolJar, $"uk.co.smartdcc.boxed.xmldsig.{tool}", "-", .. options], xml, null, cancellationToken);
        return new ToolResult((SigningToolExit)code, output, error);
    }

    /// <summary>
    /// Parses a DUIS request or response with <c>@smartdcc/duis-parser</c> (<c>parseDuis('simplified', xml)</c>) and
    /// returns its JSON: <c>header</c> (with <c>requestId</c>, <c>commandVariant</c>, <c>serviceReferenceVariant</c>
    /// for requests; <c>responseCode</c> … for responses) and <c>body</c>. RequestID counters are decimal strings.
    /// </summary>
    /// <exception cref="DuisParseException">the parser refused the message.</exception>
    public async Task<JsonDocument> ParseAsync(string xml, CancellationToken cancellationToken = default)
    {
        var (code, output, error) = await ExternalProcess.RunAsync(
            node.Value, [Path.Combine(toolsDirectory, "parse.js"), "simplified"], xml, new Dictionary<string, string> { ["NODE_PATH"] = NodeModules }, cancellationToken);
        return code == 0 ? JsonDocument.Parse(output) : throw new DuisParseException(error.Trim());
    }

    /// <summary>Parses many messages in one Node process; each result is the parsed JSON or the parser's refusal.</summary>
    public async Task<IReadOnlyList<(bool Parsed, string Detail)>> ParseManyAsync(IEnumerable<string> xmls, CancellationToken cancellationToken = default)
    {
        var input = JsonSerializer.Serialize(xmls.ToArray());
        var (code, output, error) = await ExternalProcess.RunAsync(
            node.Value, [Path.Combine(toolsDirectory, "parse.js"), "batch"], input, new Dictionary<string, string> { ["NODE_PATH"] = NodeModules }, cancellationToken);
        if (code != 0)
        {
            throw new DuisParseException(error.Trim());
        }
        using var results = JsonDocument.Parse(output);
        return [.. results.RootElement.EnumerateArray().Select(r => r.GetProperty("ok").GetBoolean()
            ? (true, r.GetProperty("parsed").GetRawText())
            : (false, r.GetProperty("error").GetString() ?? ""))];
    }

    /// <summary>A RequestID counter not yet used in this run: increasing, and at least the current Unix time in ms.</summary>
    public ulong NextCounter()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        while (true)
        {
            var last = Interlocked.Read(ref lastCounter);
            var next = Math.Max(last + 1, now);
            if (Interlocked.CompareExchange(ref lastCounter, next, last) == last)
            {
                return (ulong)next;
            }
        }
    }

    /// <summary>The request with its RequestID counter replaced.</summary>
    public static string WithCounter(string xml, ulong counter) =>
        RequestIdCounter().IsMatch(xml)
            ? RequestIdCounter().Replace(xml, m => m.Groups["head"].Value + counter.ToString(CultureInfo.InvariantCulture), 1)
            : throw new FormatException("the message has no RequestID element of the form ORIGINATOR:TARGET:COUNTER");

    private async Task<ToolResult> RunToolAsync(SigningTool tool, string xml, IReadOnlyList<string> options, CancellationToken cancellationToken)
    {
        await hostSlots.WaitAsync(cancellationToken);
        try
        {
            if (!idleHosts.TryTake(out var host))
            {
                host = SigningToolHost.Start(java.Value, SigningToolJar, Path.Combine(toolsDirectory, "DuisToolHost.java"));
                allHosts.Add(host);
            }
            ToolResult result;
            try
            {
                result = await host.RunAsync(tool.ToString(), xml, options, cancellationToken);
            }
            catch
            {
                host.Dispose(); // mid-message, so its protocol state is unknown: never reuse it
                throw;
            }
            if (host.IsRunning)
            {
                idleHosts.Add(host);
            }
            return result;
        }
        finally
        {
            hostSlots.Release();
        }
    }

    private IReadOnlyList<RtdsTemplate> LoadTemplates() =>
        [.. Directory.EnumerateFiles(TemplatesDirectory, "*.XML")
            .Order(StringComparer.Ordinal)
            .Select(path => RtdsTemplate.Parse(Path.GetFileName(path), File.ReadAllText(path)))];

    private Zaz1Identities ExtractIdentities()
    {
        var folder = Directory.CreateDirectory(Path.Combine(workDirectory, "zaz1")).FullName;
        using var jar = ZipFile.OpenRead(SigningToolJar);
        var extracted = Zaz1Identities.JarEntries.Select(e =>
            new Zaz1Identity(e.Name, Eui64.Parse(e.Id), e.Role, Extract(jar, e.Certificate, folder), Extract(jar, e.Key, folder))).ToArray();
        return new Zaz1Identities(extracted[0], extracted[1], extracted[2], extracted[3]);
    }

    private static string Extract(ZipArchive jar, string entryName, string folder)
    {
        var entry = jar.GetEntry(entryName) ?? throw new DccToolingMissingException($"the signing tool {jar} has no {entryName}; is @smartdcc/duis-sign-wrap the pinned version?");
        var path = Path.Combine(folder, entryName);
        entry.ExtractToFile(path, overwrite: true);
        return path;
    }

    private static string FindProgram(string program, string what)
    {
        if (program == "java" && Environment.GetEnvironmentVariable("JAVA_HOME") is { Length: > 0 } javaHome && File.Exists(Path.Combine(javaHome, "bin", "java")))
        {
            return Path.Combine(javaHome, "bin", "java");
        }
        return ExternalProcess.FindOnPath(program) ?? throw new DccToolingMissingException($"'{program}' is not on PATH: the interop tests need {what}.");
    }

    [GeneratedRegex(@"(?<head><(?:[\w.-]+:)?RequestID>\s*[0-9A-Fa-f-]+:[0-9A-Fa-f-]+:)\d+(?=\s*</)")]
    private static partial Regex RequestIdCounter();

    public void Dispose()
    {
        foreach (var host in allHosts)
        {
            host.Dispose();
        }
        hostSlots.Dispose();
        if (Directory.Exists(workDirectory))
        {
            Directory.Delete(workDirectory, recursive: true);
        }
    }
}

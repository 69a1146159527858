using System.Diagnostics;
using System.Globalization;
using System.Text;
using OpenDcc.Interop.Tests.Tooling;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace OpenDcc.Interop.Tests;

/// <summary>One RTDS template and what the signing tool made of it.</summary>
public sealed record SignedTemplate(RtdsTemplate Template, ToolResult Signing)
{
    /// <summary>The signed request; only when <see cref="ToolResult.Succeeded"/>.</summary>
    public string Xml => Signing.Succeeded ? Signing.Output : throw new InvalidOperationException($"{Template.FileName} was not signed: {Signing}");
}

/// <summary>
/// The DCC tooling and every RTDS template signed once per test run (fresh, unique RequestID counters), shared by all
/// tests in the <see cref="DccToolingCollection"/>: signing is the expensive step, and later tests send the set.
/// </summary>
public sealed class SignedRtds(IMessageSink diagnostics) : IAsyncLifetime
{
    public DccTooling Tooling { get; } = DccTooling.Locate();

    /// <summary>Every template in <see cref="DccTooling.Templates"/> order, signed or with the tool's refusal.</summary>
    public IReadOnlyList<SignedTemplate> All { get; private set; } = [];

    public IEnumerable<SignedTemplate> Signed => All.Where(s => s.Signing.Succeeded);

    public IEnumerable<SignedTemplate> Refused => All.Where(s => !s.Signing.Succeeded);

    public TimeSpan SigningTime { get; private set; }

    public async Task InitializeAsync()
    {
        var clock = Stopwatch.StartNew();
        var templates = Tooling.Templates;
        var results = await Tooling.SignManyAsync(templates.Select(t => t.Xml), preserveCounter: false);
        SigningTime = clock.Elapsed;
        All = [.. templates.Zip(results, (t, r) => new SignedTemplate(t, r))];
        diagnostics.OnMessage(new DiagnosticMessage(Summary()));
    }

    /// <summary>Prints a line in the test run's output (xunit diagnostic messages are on for this project).</summary>
    public void Report(string text) => diagnostics.OnMessage(new DiagnosticMessage(text));

    public string Summary()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"RTDS: {All.Count} templates, {Signed.Count()} signed and {Refused.Count()} refused in {SigningTime.TotalSeconds:F1} s ({Tooling.Parallelism} signing JVMs)");
        foreach (var refused in Refused)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  refused {refused.Template.FileName} (originator {refused.Template.RequestId.Originator}): {refused.Signing}");
        }
        text.AppendLine(CultureInfo.InvariantCulture, $"RTDS devices ({Tooling.RtdsDevices.Count}):");
        foreach (var device in Tooling.RtdsDevices)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {device}");
        }
        return text.ToString().TrimEnd();
    }

    public Task DisposeAsync()
    {
        Tooling.Dispose();
        return Task.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class DccToolingCollection : ICollectionFixture<SignedRtds>
{
    public const string Name = "DCC tooling";
}

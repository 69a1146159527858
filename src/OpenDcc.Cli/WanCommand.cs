using System.CommandLine;
using OpenDcc.Core.Wan;

namespace OpenDcc.Cli;

/// <summary><c>opendcc wan coverage import|show</c>: the SM WAN coverage data 12.1 Request WAN Matrix answers from.</summary>
internal static class WanCommand
{
    public static Command Create(CliContext context)
    {
        var file = new Argument<FileInfo>("file") { Description = $"CSV with the header {WanCoverage.CsvHeader}" };
        var import = context.WithStoreOptions(new Command("import", "Replace the coverage data with a CSV file's, as the communications service providers publish it; a malformed line imports nothing") { file });
        import.SetAction(async (parsed, ct) =>
        {
            var csv = CliContext.ExistingFile(parsed.GetValue(file), "file");
            IReadOnlyList<WanCoverage> coverage;
            try
            {
                // Strict UTF-8: a byte that is not would be read as U+FFFD and answered in 12.1.
                using var text = new StreamReader(csv.FullName, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true));
                coverage = WanCoverage.Parse(text);
            }
            catch (FormatException e)
            {
                throw new FormatException($"{csv.Name} {e.Message}", e);
            }
            catch (System.Text.DecoderFallbackException e)
            {
                throw new FormatException($"{csv.Name} is not UTF-8 text ({e.Message})", e);
            }
            await using var store = await context.OpenStoreAsync(parsed, ct);
            var before = await store.WanCoverage.CountAsync(ct);
            await store.WanCoverage.ReplaceAsync(coverage, ct);
            await context.Output.WriteLineAsync($"imported {CliContext.Count(coverage.Count, "coverage entry", "coverage entries")} from {csv.Name} (replacing {CliContext.Count(before, "entry", "entries")})");
            return 0;
        });
        var postCode = new Argument<string>("post-code") { Description = "A whole post code, e.g. M22 0RR" };
        var show = context.WithStoreOptions(new Command("show", "Show the coverage entry 12.1 would answer with for a post code: its own, its sector's, district's or area's") { postCode });
        show.SetAction(async (parsed, ct) =>
        {
            string normalised;
            try
            {
                normalised = WanCoverage.NormalisePostCodes(parsed.GetRequiredValue(postCode));
            }
            catch (FormatException e)
            {
                throw new FormatException($"post-code: {e.Message}", e);
            }
            if (!Core.Identifiers.PostCode.IsNormalised(normalised))
            {
                throw new FormatException($"post-code: '{parsed.GetRequiredValue(postCode).Trim()}' is not a whole post code (SW1A 1AA)");
            }
            await using var store = await context.OpenExistingStoreAsync(parsed, ct);
            await context.Output.WriteLineAsync(await store.WanCoverage.FindAsync(normalised, ct) is { } found
                ? found.ToString() + (found.AuxiliaryEquipmentRequired is { } aux ? $"; needs {aux}" : "") + (found.AdditionalInformation is { } info ? $"; {info}" : "")
                : $"no coverage entry covers {normalised} (12.1 answers {Core.Duis.GatewayResponseCodes.Default.WanMatrixNoCoverageData})");
            return 0;
        });
        var coverageCommand = new Command("coverage", "The SM WAN coverage data 12.1 Request WAN Matrix answers from") { import, show };
        return new Command("wan", "The SM WAN") { coverageCommand };
    }
}

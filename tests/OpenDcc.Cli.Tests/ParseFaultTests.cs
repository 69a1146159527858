namespace OpenDcc.Cli.Tests;

/// <summary>A value that does not parse is refused naming the option and what it takes, never a .NET type.</summary>
public sealed class ParseFaultTests : IDisposable
{
    private readonly CliRun cli = new();

    [Theory]
    [InlineData("inventory", "add", "--device", "{long}", "--type", "ESME")]
    [InlineData("serve", "--sites", "{long}")]
    [InlineData("users", "status", "--id", "90-B3-D5-1F-30-01-00-00", "--to", "{long}")]
    public async Task A_refusal_quoting_a_long_value_gives_its_start_and_its_end_not_the_whole_of_it(params string[] args)
    {
        var value = new string('7', 100_000) + "x";
        var (code, _, error) = await cli.RunWithDataAsync([.. args.Select(a => a == "{long}" ? value : a)]);

        Assert.Equal(1, code);
        var fault = error.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries)[0];
        Assert.InRange(fault.Length, 100, 1_100);
        Assert.Contains("characters left out) …", fault, StringComparison.Ordinal);
        Assert.Contains("7x", fault, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "serve", "--sites", "abc" }, "opendcc: --sites: 'abc' is not a whole number", "opendcc serve --help")]
    [InlineData(new[] { "log", "show", "--last", "99999999999" }, "opendcc: --last: 99999999999 is too large (at most 2,147,483,647)", "opendcc log show --help")]
    [InlineData(new[] { "log", "show", "--from", "99999999999999999999" }, "opendcc: --from: 99999999999999999999 is too large (at most 9,223,372,036,854,775,807)", "opendcc log show --help")]
    [InlineData(new[] { "log", "show", "--from", "-99999999999999999999" }, "opendcc: --from: -99999999999999999999 is too small (at least -9,223,372,036,854,775,808)", "opendcc log show --help")]
    [InlineData(new[] { "log", "show", "--from", "abc" }, "opendcc: --from: 'abc' is not a whole number", "opendcc log show --help")]
    [InlineData(new[] { "serve", "--seed", "-1" }, "opendcc: --seed: -1 is too small (at least 0)", "opendcc serve --help")]
    [InlineData(new[] { "simulate", "--loss", "x" }, "opendcc: --loss: 'x' is not a number", "opendcc simulate --help")]
    [InlineData(new[] { "users", "list", "--data", "" }, "opendcc: --data: give the path of a directory", "opendcc users list --help")]
    [InlineData(new[] { "inventory", "import", "" }, "opendcc: import's argument: give the path of a file", "opendcc inventory import --help")]
    [InlineData(new[] { "serve", "--adapter", "" }, "opendcc: --adapter: give the path of a file", null)]
    [InlineData(new[] { "users", "add", "--id", "90-B3-D5-1F-30-01-00-00", "--role", "IS" }, "opendcc: --name is required: the organisation's name", "opendcc users add --help")]
    [InlineData(new[] { "inventory", "import" }, "opendcc: import's argument is required: CSV with the header device_id,device_type…", "opendcc inventory import --help")]
    [InlineData(new[] { "validate", "mpan" }, "opendcc: mpan's argument is required: the identifier to check", "opendcc validate mpan --help")]
    [InlineData(new[] { "inventory", "add", "--type", "ESME" }, "opendcc: --device is required: the device's EUI-64", "opendcc inventory add --help")]
    [InlineData(new[] { "inventory", "add", "--device", "00-DB-12-34-56-78-90-A0" }, "opendcc: --type is required: ESME, GSME, CHF, GPF, PPMID, HCALCS or IHD", "opendcc inventory add --help")]
    [InlineData(new[] { "inventory", "import", "devices.csv", "--mode", "bogus" }, "opendcc: --mode: 'bogus' is not one of all-or-nothing, skip-invalid", "opendcc inventory import --help")]
    [InlineData(new[] { "inventory", "import", "devices.csv", "--mode", "" }, "opendcc: --mode: '' is not one of all-or-nothing, skip-invalid", "opendcc inventory import --help")]
    [InlineData(new[] { "inventory", "import", "devices.csv", "--mode" }, "opendcc: --mode: no value given: all-or-nothing: any invalid row imports nothing (default); skip-invalid: import the valid rows and report the others", "opendcc inventory import --help")]
    [InlineData(new[] { "inventory", "import", "devices.csv", "--mode=" }, "opendcc: --mode: no value given: all-or-nothing: any invalid row imports nothing (default); skip-invalid: import the valid rows and report the others", "opendcc inventory import --help")]
    [InlineData(new[] { "users", "list", "--data" }, "opendcc: --data: no value given: the data directory (SQLite database, keys). Default: $OPENDCC_DATA or ./opendcc-data", "opendcc users list --help")]
    // An enum option takes its names only: .NET's Enum.TryParse takes a number (stored as a status no user has) and names OR-ed.
    [InlineData(new[] { "users", "status", "--id", "90-B3-D5-1F-30-01-00-00", "--to", "5" }, "opendcc: --to: '5' is not one of Active, Suspended, Withdrawn", "opendcc users status --help")]
    [InlineData(new[] { "users", "status", "--id", "90-B3-D5-1F-30-01-00-00", "--to", "1" }, "opendcc: --to: '1' is not one of Active, Suspended, Withdrawn", "opendcc users status --help")]
    [InlineData(new[] { "users", "status", "--id", "90-B3-D5-1F-30-01-00-00", "--to", "Active,Withdrawn" }, "opendcc: --to: 'Active,Withdrawn' is not one of Active, Suspended, Withdrawn", "opendcc users status --help")]
    // An option without its value before another option: System.CommandLine takes the next option's name as the value.
    [InlineData(new[] { "inventory", "add", "--device", "--type", "ESME" }, "opendcc: --device: no value given (the word after it, --type, is an option)", "opendcc inventory add --help")]
    [InlineData(new[] { "users", "list", "--data", "--postgres", "Host=x" }, "opendcc: --data: no value given (the word after it, --postgres, is an option)", "opendcc users list --help")]
    // An unknown command: named alone, not also as a command missing.
    [InlineData(new[] { "bogus" }, "opendcc: Unrecognized command or argument 'bogus'.", "opendcc --help")]
    [InlineData(new[] { "users", "lst" }, "opendcc: Unrecognized command or argument 'lst'.", "opendcc users --help")]
    [InlineData(new[] { "users" }, "opendcc: Required command was not provided.", "opendcc users --help")]
    [InlineData(new[] { "demo", "--data", "--no-wait" }, "opendcc: --data: no value given (the word after it, --no-wait, is an option)", "opendcc demo --help")]
    public async Task A_value_that_does_not_parse_is_refused_naming_the_option_and_what_it_takes(string[] args, string fault, string? help)
    {
        var (code, output, error) = await cli.RunAsync(args);
        Assert.Equal(1, code);
        Assert.Equal("", output);
        var lines = error.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        // Exact, but for a description too long to repeat here (the import's CSV header), its start.
        if (fault.EndsWith('…'))
        {
            Assert.StartsWith(fault[..^1], lines[0], StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(fault, lines[0]);
        }
        Assert.DoesNotContain("System.", error, StringComparison.Ordinal);
        if (help is not null)
        {
            Assert.Equal($"('{help}' lists the options)", lines[^1]);
            Assert.Equal(2, lines.Length); // the fault on one line, then where the help is
        }
    }

    [Theory]
    [InlineData(new[] { "--colour", "mauve" }, "--colour: 'mauve' is not one of red, green")]
    [InlineData(new[] { "--day", "Someday" }, "--day: 'Someday' is not one of Sunday, Monday, Tuesday, Wednesday, Thursday, Friday, Saturday")]
    [InlineData(new[] { "--colour", "red", "plum" }, "paint's argument: 'plum' is not one of light, dark")]
    public void A_value_outside_fixed_choices_names_the_option_and_its_choices_on_one_line(string[] args, string fault)
    {
        var colour = new System.CommandLine.Option<string>("--colour");
        colour.AcceptOnlyFromAmong("red", "green");
        var day = new System.CommandLine.Option<DayOfWeek?>("--day");
        var shade = new System.CommandLine.Argument<string?>("shade") { Arity = System.CommandLine.ArgumentArity.ZeroOrOne };
        System.CommandLine.ArgumentValidation.AcceptOnlyFromAmong(shade, "light", "dark");
        var command = new System.CommandLine.Command("paint") { colour, day, shade };

        var parsed = new System.CommandLine.RootCommand { command }.Parse(["paint", .. args]);

        Assert.Equal(fault, Assert.Single(parsed.Errors.Select(e => OpenDccCli.NotAChoiceOf(e) ?? e.Message)));
    }

    public void Dispose() => cli.Dispose();
}

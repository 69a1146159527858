using System.CommandLine;
using System.Security.Cryptography;
using NodaTime;
using OpenDcc.Core;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;
using OpenDcc.Storage;
using Spectre.Console;

namespace OpenDcc.Cli;

/// <summary>
/// The <c>opendcc</c> command. Every command prints what it did, or one line naming the fault and exits 1.
/// </summary>
public static partial class OpenDccCli
{
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, IClock? clock = null, CancellationToken cancellationToken = default)
    {
        var context = new CliContext(output, error, clock ?? SystemClock.Instance);
        var root = new RootCommand("OpenDcc: the GB smart-metering Data and Communications Company hub")
        {
            ServeCommand.Create(context),
            SimulateCommand.Create(context),
            ValidateCommand.Create(context),
            CatalogueCommand.Create(context),
            UsersCommand.Create(context),
            CertsCommand.Create(context),
            InventoryCommand.Create(context),
            KeysCommand.Create(context),
            LogCommand.Create(context),
            DeliveryCommand.Create(context),
            WanCommand.Create(context),
            DemoCommand.Create(context),
        };
        var parsed = root.Parse(args);
        if (OptionWithoutValue(parsed) is { } withoutValue)
        {
            // Said alone: the other faults (the next option's value left over, that option missing) follow from it.
            await error.WriteLineAsync($"opendcc: {withoutValue}");
            await error.WriteLineAsync($"('{CommandPath(parsed.CommandResult)} --help' lists the options)");
            return 1;
        }
        if (parsed.Action is not System.CommandLine.Invocation.ParseErrorAction && EnumValueNotNamed(parsed) is { } notNamed)
        {
            await error.WriteLineAsync($"opendcc: {Excerpt.Ends(notNamed)}");
            await error.WriteLineAsync($"('{CommandPath(parsed.CommandResult)} --help' lists the options)");
            return 1;
        }
        if (parsed.Action is System.CommandLine.Invocation.ParseErrorAction)
        {
            // An unknown word where a command was wanted ('opendcc bogus', 'opendcc users lst') leaves the command missing
            // too: said once, as the word not recognised.
            var faults = parsed.Errors.Count > 1
                ? parsed.Errors.Where(f => !f.Message.StartsWith("Required command was not provided", StringComparison.Ordinal)).ToList()
                : parsed.Errors;
            foreach (var fault in faults)
            {
                await error.WriteLineAsync($"opendcc: {Excerpt.Ends(MissingOptionOf(fault.Message, parsed.CommandResult.Command) ?? NotAChoiceOf(fault) ?? ParseFaultOf(fault.Message))}");
            }
            await error.WriteLineAsync($"('{string.Join(' ', parsed.CommandResult.Command.Name == root.Name ? "opendcc" : CommandPath(parsed.CommandResult))} --help' lists the options)");
            return 1;
        }
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var signals = new StopSignals(stopping, error, StopTimeout);
        try
        {
            // Ctrl-C and SIGTERM are the StopSignals', not System.CommandLine's (ProcessTerminationTimeout null).
            var invoked = parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null }, stopping.Token);
            return await await Task.WhenAny(invoked, signals.Left);
        }
        catch (Exception e) when (IsUserFacing(e))
        {
            // A refusal quotes what was given, which may be a file's worth: its start and its end, which says what is wrong.
            await error.WriteLineAsync($"opendcc: {Excerpt.Ends(ParseFaultOf(MessageOf(e)))}");
            return 1;
        }
        catch (OperationCanceledException e) when (e.InnerException is not TimeoutException)
        {
            // Ctrl-C or SIGTERM: the command's token was cancelled. Said in a line, with the shell's exit code for it.
            await error.WriteLineAsync("opendcc: stopped (Ctrl-C or SIGTERM) before it finished");
            return 130;
        }
    }

    /// <summary>
    /// How long a command has to finish once Ctrl-C or SIGTERM cancels it, before RunAsync returns under it
    /// (<see cref="StopSignals"/>; a second Ctrl-C ends it at once): a stopping hub waits for its requests in flight,
    /// answers its device queues and lets go of its store, bounded by the host's own shutdown timeout (30 s), so it is
    /// given that and some more. A serve told to stop with a request in flight was otherwise cut off mid-stop after 2 s
    /// (System.CommandLine's default), exit code 143.
    /// </summary>
    private static readonly TimeSpan StopTimeout = new Microsoft.Extensions.Hosting.HostOptions().ShutdownTimeout + TimeSpan.FromSeconds(15);

    /// <summary>
    /// An option given no value, followed by another option: System.CommandLine takes the next option's name as its value
    /// ('--device --type ESME' gives --device the value '--type', then finds ESME left over and --type missing; 'demo
    /// --data --no-wait' would make a directory named --no-wait). This names the option that has no value; null when no
    /// option's value is the name of an option of the command (or of a command it is under).
    /// </summary>
    internal static string? OptionWithoutValue(ParseResult parsed)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var at = parsed.CommandResult; at is not null; at = at.Parent as System.CommandLine.Parsing.CommandResult)
        {
            foreach (var option in at.Command.Options)
            {
                names.Add(option.Name);
                names.UnionWith(option.Aliases);
            }
        }
        return parsed.CommandResult.Children.OfType<System.CommandLine.Parsing.OptionResult>()
            .SelectMany(o => o.Tokens.Select(t => (o.Option.Name, t.Value)))
            .Where(p => names.Contains(p.Value))
            .Select(p => $"{p.Name}: no value given (the word after it, {p.Value}, is an option)")
            .FirstOrDefault();
    }

    /// <summary>
    /// A value of an enum option that is none of the enum's names, said as <see cref="NotAChoiceOf"/> says a value not
    /// among the choices; null when each is one. System.CommandLine parses an enum with Enum.TryParse, which takes a
    /// number as well ('users status --to 5' stored a status no user can have) and names joined by commas, their values
    /// OR-ed ('--to Active,Withdrawn' is Withdrawn).
    /// </summary>
    internal static string? EnumValueNotNamed(ParseResult parsed) =>
        parsed.CommandResult.Children.OfType<System.CommandLine.Parsing.OptionResult>()
            .Select(o => (o.Option.Name, Type: o.Option.ValueType.IsArray ? o.Option.ValueType.GetElementType()! : o.Option.ValueType, o.Tokens))
            .Select(o => (o.Name, Type: Nullable.GetUnderlyingType(o.Type) ?? o.Type, o.Tokens))
            .Where(o => o.Type.IsEnum)
            .SelectMany(o => o.Tokens
                .Where(t => !Enum.GetNames(o.Type).Contains(t.Value.Trim(), StringComparer.OrdinalIgnoreCase))
                .Select(t => $"{o.Name}: '{t.Value}' is not one of {string.Join(", ", Enum.GetNames(o.Type))}"))
            .FirstOrDefault();

    /// <summary>An exception's message for a person: without the " (Parameter 'x')" that .NET adds for a method's parameter, which means nothing at the command line.</summary>
    internal static string MessageOf(Exception e) =>
        e is ArgumentException { ParamName: { } parameter } && e.Message.EndsWith($" (Parameter '{parameter}')", StringComparison.Ordinal)
            ? e.Message[..^$" (Parameter '{parameter}')".Length]
            : e.Message;

    /// <summary>
    /// A parse fault for a person: System.CommandLine names the .NET type a value did not parse as ("as expected type
    /// 'System.Int32'"); this says what the option takes instead.
    /// </summary>
    internal static string ParseFaultOf(string message)
    {
        var match = CannotParse().Match(message);
        if (!match.Success)
        {
            return message;
        }
        var (value, kind, name, type) = (match.Groups["value"].Value, match.Groups["kind"].Value, match.Groups["name"].Value, match.Groups["type"].Value);
        // An optional value (long?) is named as System.Nullable`1[System.Int64]: what it takes is what the Int64 takes.
        if (NullableOf().Match(type) is { Success: true } nullable)
        {
            type = nullable.Groups["type"].Value;
        }
        var named = kind == "option" ? name : $"{name}'s argument";
        // Only the bound passed: the type's other bound is no guide to what the option takes (--last is 1 to 100,000).
        if (WholeNumberRange(type) is var (min, max) && OutOfRange(value, min, max) is { } outOfRange)
        {
            return $"{named}: {value} is {outOfRange}";
        }
        var what = type switch
        {
            "System.Int32" or "System.Int64" or "System.UInt32" or "System.UInt64" => "a whole number",
            "System.Double" or "System.Decimal" => "a number",
            "System.IO.FileInfo" => "the path of a file",
            "System.IO.DirectoryInfo" => "the path of a directory",
            "System.Boolean" => "true or false",
            _ => "a value of the right form",
        };
        return value.Length == 0 ? $"{named}: give {what}" : $"{named}: '{value}' is not {what}";
    }

    /// <summary>The least and the most a whole-number type holds; null for any other type.</summary>
    private static (System.Numerics.BigInteger Min, System.Numerics.BigInteger Max)? WholeNumberRange(string type) => type switch
    {
        "System.Int32" => (int.MinValue, int.MaxValue),
        "System.Int64" => (long.MinValue, long.MaxValue),
        "System.UInt32" => (uint.MinValue, uint.MaxValue),
        "System.UInt64" => (ulong.MinValue, ulong.MaxValue),
        _ => null,
    };

    /// <summary>
    /// "too large (at most M)" or "too small (at least M)" for a whole number written out that the type cannot hold (it
    /// did not parse, yet is a whole number: saying it is not one would be wrong); null for anything else.
    /// </summary>
    private static string? OutOfRange(string value, System.Numerics.BigInteger min, System.Numerics.BigInteger max) =>
        System.Numerics.BigInteger.TryParse(value, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var number)
            ? number > max ? $"too large (at most {max:N0})" : number < min ? $"too small (at least {min:N0})" : null
            : null;

    /// <summary>
    /// A required option or argument left out, or an option given without its value, for a person: System.CommandLine
    /// says only that it is required; this says what it takes, from its own description. Null for any other fault.
    /// </summary>
    internal static string? MissingOptionOf(string message, Command command)
    {
        if (RequiredOption().Match(message) is { Success: true } option)
        {
            var name = option.Groups["name"].Value;
            return $"{name} is required{WhatItTakes(OptionNamed(command, name)?.Description)}";
        }
        if (OptionValueMissing().Match(message) is { Success: true } valueless)
        {
            var name = valueless.Groups["name"].Value;
            return $"{name}: no value given{WhatItTakes(OptionNamed(command, name)?.Description)}";
        }
        if (RequiredArgument().Match(message) is { Success: true } argument && argument.Groups["name"].Value == command.Name)
        {
            return $"{command.Name}'s argument is required{WhatItTakes(command.Arguments.FirstOrDefault()?.Description)}";
        }
        return null;
    }

    /// <summary>The option of <paramref name="command"/> or of a command it is under (--data, say) with that name or alias.</summary>
    private static Option? OptionNamed(Command command, string name) =>
        command.Options.FirstOrDefault(o => o.Name == name || o.Aliases.Contains(name))
        ?? command.Parents.OfType<Command>().Select(parent => OptionNamed(parent, name)).FirstOrDefault(o => o is not null);

    /// <summary>
    /// A value not among an option's (or argument's) fixed choices, for a person, on one line: System.CommandLine says
    /// "Argument 'x' not recognized. Must be one of:" and lists them a line each (or, for an enum, names its .NET type),
    /// without naming the option; this says "--mode: 'x' is not one of a, b". Null for any other fault.
    /// </summary>
    internal static string? NotAChoiceOf(System.CommandLine.Parsing.ParseError fault)
    {
        var (named, type) = fault.SymbolResult switch
        {
            System.CommandLine.Parsing.OptionResult option => (option.Option.Name, option.Option.ValueType),
            System.CommandLine.Parsing.ArgumentResult { Parent: System.CommandLine.Parsing.OptionResult option } => (option.Option.Name, option.Option.ValueType),
            System.CommandLine.Parsing.ArgumentResult { Parent: System.CommandLine.Parsing.CommandResult command } argument => ($"{command.Command.Name}'s argument", argument.Argument.ValueType),
            System.CommandLine.Parsing.ArgumentResult argument => (argument.Argument.Name, argument.Argument.ValueType),
            _ => ((string?)null, (Type?)null),
        };
        type = type?.IsArray == true ? type.GetElementType() : type;
        type = type is null ? null : Nullable.GetUnderlyingType(type) ?? type;
        var (value, choices) = NotRecognised().Match(fault.Message) is { Success: true } listed
            ? (listed.Groups["value"].Value, Choice().Matches(listed.Groups["choices"].Value).Select(c => c.Groups["choice"].Value).ToArray())
            : CannotParseAs().Match(fault.Message) is { Success: true } unparsed && type is { IsEnum: true }
                ? (unparsed.Groups["value"].Value, Enum.GetNames(type))
                : (null, null);
        return named is null || value is null || choices is null ? null : $"{named}: '{value}' is not one of {string.Join(", ", choices)}";
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^Argument '(?<value>.*)' not recognized\. Must be one of:(?<choices>(?:\s*'[^']*')+)\s*$", System.Text.RegularExpressions.RegexOptions.Singleline)]
    private static partial System.Text.RegularExpressions.Regex NotRecognised();

    // An enum's fault goes on to list the names it might have meant, a line each: only its first sentence is read.
    [System.Text.RegularExpressions.GeneratedRegex(@"^Cannot parse argument '(?<value>.*?)' for (?:option|command|argument) '[^']*' as expected type '[^']*'\.", System.Text.RegularExpressions.RegexOptions.Singleline)]
    private static partial System.Text.RegularExpressions.Regex CannotParseAs();

    [System.Text.RegularExpressions.GeneratedRegex(@"'(?<choice>[^']*)'")]
    private static partial System.Text.RegularExpressions.Regex Choice();

    /// <summary>": " and a description as the rest of a sentence (its first word in lower case unless an acronym); empty without one.</summary>
    private static string WhatItTakes(string? description) => description switch
    {
        null or "" => "",
        [var first, var second, ..] when char.IsUpper(first) && char.IsLower(second) => $": {char.ToLowerInvariant(first)}{description[1..]}",
        _ => $": {description}",
    };

    [System.Text.RegularExpressions.GeneratedRegex(@"^Option '(?<name>[^']*)' is required\.$")]
    private static partial System.Text.RegularExpressions.Regex RequiredOption();

    [System.Text.RegularExpressions.GeneratedRegex(@"^Required argument missing for option: '(?<name>[^']*)'\.$")]
    private static partial System.Text.RegularExpressions.Regex OptionValueMissing();

    [System.Text.RegularExpressions.GeneratedRegex(@"^Required argument missing for command: '(?<name>[^']*)'\.$")]
    private static partial System.Text.RegularExpressions.Regex RequiredArgument();

    private static string CommandPath(System.CommandLine.Parsing.CommandResult command) =>
        command.Parent is System.CommandLine.Parsing.CommandResult parent ? $"{CommandPath(parent)} {command.Command.Name}" : "opendcc";

    [System.Text.RegularExpressions.GeneratedRegex(@"^System\.Nullable`1\[(?<type>[^\]]*)\]$")]
    private static partial System.Text.RegularExpressions.Regex NullableOf();

    [System.Text.RegularExpressions.GeneratedRegex(@"^Cannot parse argument '(?<value>.*)' for (?<kind>option|command|argument) '(?<name>[^']*)' as expected type '(?<type>[^']*)'\.$", System.Text.RegularExpressions.RegexOptions.Singleline)]
    private static partial System.Text.RegularExpressions.Regex CannotParse();

    private static bool IsUserFacing(Exception e) => e is FormatException or ArgumentException or IOException or UnauthorizedAccessException
        or CryptographicException or InvalidOperationException or InvalidOrganisationCertificateException or DuplicateCertificateSerialException
        or DuplicateDccUserException or UnknownDccUserException or DuplicateDeviceException or MeterPointServedException or System.Data.Common.DbException;
}

/// <summary>Where a command writes, the clock it reads, and the options every store-using command shares.</summary>
internal sealed partial class CliContext(TextWriter output, TextWriter error, IClock clock)
{
    public TextWriter Output { get; } = output;

    public TextWriter Error { get; } = error;

    public IClock Clock { get; } = clock;

    /// <summary>Tables and progress for people; plain text when captured.</summary>
    public IAnsiConsole Console { get; } = CreateConsole(output);

    public Option<DirectoryInfo> Data { get; } = new("--data")
    {
        Description = "The data directory (SQLite database, keys). Default: $OPENDCC_DATA or ./opendcc-data",
        DefaultValueFactory = _ => new DirectoryInfo(Environment.GetEnvironmentVariable("OPENDCC_DATA") is { Length: > 0 } data ? data : "opendcc-data"),
        Recursive = true,
    };

    public Option<string?> Postgres { get; } = new("--postgres")
    {
        Description = "Use PostgreSQL (an Npgsql connection string) instead of SQLite. Default: $OPENDCC_POSTGRES",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("OPENDCC_POSTGRES"),
        Recursive = true,
    };

    /// <summary>
    /// The PostgreSQL connection string, or null for SQLite: <c>--postgres</c>, or else <c>$OPENDCC_POSTGRES</c> (set but
    /// empty is unset, as for <c>$OPENDCC_DATA</c>). A <c>--postgres</c> given empty is refused: a script passing an unset
    /// variable would otherwise get a fresh SQLite store instead of its database.
    /// </summary>
    /// <exception cref="ArgumentException"><c>--postgres</c> given, and empty.</exception>
    public string? PostgresConnection(ParseResult parsed)
    {
        var value = parsed.GetValue(Postgres);
        if (parsed.GetResult(Postgres) is { Implicit: false } && string.IsNullOrWhiteSpace(value))
        {
            throw new ArgumentException("--postgres: give a connection string (Host=…;Database=…;Username=…), or leave the option out to use SQLite");
        }
        return string.IsNullOrWhiteSpace(value) ? null : value;
    }

    public Task<OpenDccStore> OpenStoreAsync(ParseResult parsed, CancellationToken cancellationToken)
    {
        var data = DataDirectory(parsed);
        return PostgresConnection(parsed) is { } connection
            ? NamingStoreAsync(connection, data, () => OpenDccStore.OpenPostgresAsync(connection, Clock, cancellationToken))
            : NamingStoreAsync(null, data, () => OpenDccStore.OpenSqliteAsync(data, Clock, cancellationToken));
    }

    /// <summary>The commands that start a store in a directory without one (<see cref="OpenStoreAsync"/>, and the hub's).</summary>
    public const string StoreStarters = "serve, demo, users add, inventory add|import, inventory site set, inventory models add|import or wan coverage import";

    /// <summary>
    /// Opens a store that must already be there, for a command that only reads it or changes what it already holds:
    /// with SQLite, a <c>--data</c> directory without an OpenDcc database is refused (a mistyped path would otherwise
    /// get an empty store made for it, and an empty answer). PostgreSQL names a database that exists.
    /// </summary>
    public Task<OpenDccStore> OpenExistingStoreAsync(ParseResult parsed, CancellationToken cancellationToken)
    {
        if (PostgresConnection(parsed) is null && DataDirectory(parsed) is var data)
        {
            var file = new FileInfo(Path.Combine(data, OpenDccStore.SqliteFileName));
            if (!file.Exists)
            {
                throw new InvalidOperationException($"--data {data}: no OpenDcc store there ({StoreStarters} start one)");
            }
        }
        return OpenStoreAsync(parsed, cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="open"/>, which opens the store, reporting what the store refuses as the fault of the option
    /// that chose it: with PostgreSQL, <c>--postgres</c> (no server there, a bad password, no such database, a
    /// connection string that does not parse); with SQLite, <c>--data</c> (a directory that cannot be written or
    /// created, a file that is not an OpenDcc database).
    /// </summary>
    public static async Task<T> NamingStoreAsync<T>(string? postgres, string dataDirectory, Func<Task<T>> open)
    {
        try
        {
            return await open();
        }
        catch (ArgumentException e) when (postgres is not null)
        {
            throw new InvalidOperationException($"--postgres: {ConnectionStringFault(e)}", e);
        }
        catch (Npgsql.NpgsqlException e) when (postgres is not null)
        {
            throw new InvalidOperationException($"--postgres: {(TimedOut(e) && SilentServer(postgres) is { } silent ? silent : e.Message)}", e);
        }
        catch (Exception e) when (postgres is null && e is Microsoft.Data.Sqlite.SqliteException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"--data {dataDirectory}: {e.Message}", e);
        }
    }

    /// <summary>
    /// What is wrong with a connection string Npgsql does not take, naming the setting: it says "Couldn't set port
    /// (Parameter 'port')" of "Port=abc", and of "Port=99999" only that an argument was out of range.
    /// </summary>
    private static string ConnectionStringFault(ArgumentException e)
    {
        var message = OpenDccCli.MessageOf(e);
        return (e.ParamName, e.InnerException) switch
        {
            (null or "keyword" or "connectionString", _) => $"the connection string does not read: {message}",
            (var setting, KeyNotFoundException) => $"the connection string names {setting}, which is not a setting of a PostgreSQL connection",
            (var setting, _) when (e as ArgumentOutOfRangeException ?? e.InnerException as ArgumentOutOfRangeException) is { } range =>
                $"the connection string's {setting} is out of range{(range.ActualValue is { } value ? $" ({value})" : "")}",
            (var setting, { } inner) => $"the connection string's {setting} does not read: {inner.Message}",
            (var setting, null) => $"the connection string's {setting} does not read",
        };
    }

    /// <summary>
    /// Whether the store gave up waiting: Npgsql wraps the timeout at whichever step the server went silent (the TCP
    /// connect, or the start-up exchange after it), one or two exceptions deep.
    /// </summary>
    private static bool TimedOut(Exception e) =>
        e is TimeoutException || (e.InnerException is { } inner && TimedOut(inner));

    /// <summary>
    /// What a silent server is told as: its host and port and the wait the connection string allowed, or null if the
    /// string does not read.
    /// </summary>
    private static string? SilentServer(string postgres)
    {
        try
        {
            var builder = new Npgsql.NpgsqlConnectionStringBuilder(postgres);
            return $"no answer from {builder.Host}:{builder.Port} within {builder.Timeout} s (the connection string's Timeout)";
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>
    /// <paramref name="file"/>, to be read: a fault naming <paramref name="what"/> (the option or argument) when no
    /// path was given, the path is a directory, or there is no such file.
    /// </summary>
    public static FileInfo ExistingFile(FileInfo? file, string what) =>
        file is null || file.ToString().Length == 0 ? throw new ArgumentException($"{what}: give the path of a file")
        : Directory.Exists(file.FullName) ? throw new ArgumentException($"{what}: {file.FullName} is a directory, not a file")
        : !file.Exists ? throw new FileNotFoundException($"{what}: {file.FullName}: no such file")
        : file;

    /// <summary>
    /// A file to be written that must not exist yet: refused, naming <paramref name="option"/>, when the path is empty, a
    /// directory, in a directory that does not exist, or a file that exists (<paramref name="existing"/> says why that
    /// one is kept).
    /// </summary>
    public static FileInfo NewFile(FileInfo? file, string option, string existing) =>
        file is null || file.ToString().Length == 0 ? throw new ArgumentException($"{option}: give the path of a file")
        : Directory.Exists(file.FullName) ? throw new ArgumentException($"{option}: {file.FullName} is a directory, not a file")
        : file.Directory is { Exists: false } directory ? throw new ArgumentException($"{option}: the directory {directory.FullName} does not exist")
        : file.Exists ? throw new ArgumentException($"{option}: {file.FullName} exists; {existing}")
        : file;

    /// <summary>"1 device", "2 devices": a count and its noun, singular for one.</summary>
    public static string Count(long count, string one, string many) => $"{count:N0} {(count == 1 ? one : many)}";

    public string DataDirectory(ParseResult parsed) => CheckedDataDirectory(parsed.GetRequiredValue(Data).FullName);

    /// <exception cref="ArgumentException">the path is a file.</exception>
    public static string CheckedDataDirectory(string path) =>
        File.Exists(path) ? throw new ArgumentException($"--data: {path} is a file, not a directory") : path;

    /// <summary>
    /// Starts a built hub. False, with the fault named on <see cref="Error"/>, when Kestrel cannot listen where
    /// <c>--urls</c> says (not http://HOST:PORT, an address not on this machine, a port in use).
    /// </summary>
    public async Task<bool> StartHubAsync(Microsoft.AspNetCore.Builder.WebApplication app, string urls, CancellationToken cancellationToken)
    {
        if (UrlsFault(urls) is { } fault)
        {
            await Error.WriteLineAsync($"opendcc: {fault}");
            return false;
        }
        // What the checks above cannot see (a port taken since) is Kestrel's to say.
        try
        {
            await app.StartAsync(cancellationToken);
            return true;
        }
        catch (Exception e) when (e is FormatException or IOException or System.Net.Sockets.SocketException)
        {
            await Error.WriteLineAsync($"opendcc: --urls {urls}: {e.Message}");
            return false;
        }
    }

    /// <summary>
    /// Why the hub cannot listen at <paramref name="urls"/> (separated by ';') now, naming --urls; null when it can: each
    /// must be one it can listen at (<see cref="CannotListen"/>), and no two may listen at the same address and port,
    /// which Kestrel would find taken by the hub itself.
    /// </summary>
    public static string? UrlsFault(string urls)
    {
        var each = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (each.Length == 0)
        {
            return "--urls: give at least one URL to listen at (http://HOST:PORT, e.g. http://localhost:8079)";
        }
        foreach (var url in each)
        {
            if (CannotListen(url) is { } why)
            {
                return $"--urls {url}: {why}";
            }
        }
        for (var i = 0; i < each.Length; i++)
        {
            for (var j = i + 1; j < each.Length; j++)
            {
                if (SharedAddress(each[i], each[j]) is { } shared)
                {
                    return $"--urls {urls}: {each[i]} and {each[j]} both listen at {shared}; give each address and port once";
                }
            }
        }
        return null;
    }

    /// <summary>
    /// Where two URLs <see cref="CannotListen"/> passed would both listen, null when nowhere: on the same port (not 0,
    /// any free one), * and + and [::] are every interface (Kestrel listens on [::] dual-mode), 0.0.0.0 every IPv4 one,
    /// and localhost is 127.0.0.1 and ::1.
    /// </summary>
    private static string? SharedAddress(string first, string second)
    {
        var (a, b) = (ListenUrl().Match(first), ListenUrl().Match(second));
        var port = int.Parse(a.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture);
        if (port == 0 || port != int.Parse(b.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture))
        {
            return null;
        }
        var (x, y) = (ListenScope(a.Groups["host"].Value), ListenScope(b.Groups["host"].Value));
        static string At(System.Net.IPAddress address, int port) => new System.Net.IPEndPoint(address, port).ToString();
        return (x, y) switch
        {
            ({ Every: true }, { Every: true }) => $"every interface, port {port}",
            ({ Every: true }, { EveryIPv4: true }) or ({ EveryIPv4: true }, { Every: true }) or ({ EveryIPv4: true }, { EveryIPv4: true }) => $"every IPv4 interface, port {port}",
            ({ Every: true }, _) => At(y.Addresses[0], port),
            (_, { Every: true }) => At(x.Addresses[0], port),
            ({ EveryIPv4: true }, _) => y.Addresses.FirstOrDefault(IsIPv4) is { } v4 ? At(v4, port) : null,
            (_, { EveryIPv4: true }) => x.Addresses.FirstOrDefault(IsIPv4) is { } v4 ? At(v4, port) : null,
            _ => x.Addresses.Intersect(y.Addresses).FirstOrDefault() is { } common ? At(common, port) : null,
        };

        static bool IsIPv4(System.Net.IPAddress address) => address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork;
    }

    /// <summary>The addresses Kestrel listens at for <paramref name="host"/>, one <see cref="CannotListen"/> passed.</summary>
    /// <summary>
    /// The URL of <paramref name="urls"/> (each one <see cref="UrlsFault"/> passed) that would listen at 127.0.0.1 on
    /// <paramref name="port"/>, where the hub's own Orleans silo listens; null when none would.
    /// </summary>
    public static string? ListensOnLoopbackPort(string urls, int port) =>
        urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault(url =>
            ListenUrl().Match(url) is { Success: true } match
            && int.Parse(match.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture) == port
            && ListenScope(match.Groups["host"].Value) is var scope
            && (scope.Every || scope.EveryIPv4 || scope.Addresses.Contains(System.Net.IPAddress.Loopback)));

    private static (bool Every, bool EveryIPv4, System.Net.IPAddress[] Addresses) ListenScope(string host)
    {
        if (host is "*" or "+")
        {
            return (true, false, []);
        }
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return (false, false, [System.Net.IPAddress.Loopback, System.Net.IPAddress.IPv6Loopback]);
        }
        var address = System.Net.IPAddress.Parse(host.Trim('[', ']'));
        address = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return address.Equals(System.Net.IPAddress.IPv6Any) ? (true, false, [])
            : address.Equals(System.Net.IPAddress.Any) ? (false, true, [])
            : (false, false, [address]);
    }

    /// <summary>
    /// Why the hub cannot listen at <paramref name="url"/> now, null when it can. The URL must be http://HOST:PORT, HOST
    /// localhost (loopback), an IP address, or * or + (every interface, IPv6 and IPv4): Kestrel would take any other
    /// name, or a missing port, as every interface (port 80), which is not what was asked. The address is then bound
    /// for a moment. Checked before the hub starts, whose host would log a stack trace for any of these.
    /// </summary>
    private static string? CannotListen(string url)
    {
        const string Form = "http://HOST:PORT, e.g. http://localhost:8079";
        if (ListenUrl().Match(url) is not { Success: true } match)
        {
            return $"not a URL to listen at ({Form})";
        }
        var scheme = match.Groups["scheme"].Value;
        if (scheme.Equals("https", StringComparison.OrdinalIgnoreCase))
        {
            return "the hub serves plain http; TLS is for whatever fronts it (a reverse proxy or load balancer)";
        }
        if (!scheme.Equals("http", StringComparison.OrdinalIgnoreCase))
        {
            return $"the hub serves http, not {scheme}";
        }
        var portText = match.Groups["port"].Value;
        if (portText.Length == 0)
        {
            return $"no port ({Form}; 0 for any free port)";
        }
        if (!int.TryParse(portText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port > System.Net.IPEndPoint.MaxPort)
        {
            return $"port {portText} is not a TCP port (0 to {System.Net.IPEndPoint.MaxPort})";
        }
        var host = match.Groups["host"].Value;
        System.Net.IPAddress? address;
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            // Kestrel listens on loopback, IPv4 and (where there is one) IPv6; IPv4's port is the one found taken.
            address = System.Net.IPAddress.Loopback;
        }
        else if (host is "*" or "+")
        {
            address = null;
        }
        else if (!System.Net.IPAddress.TryParse(host.Trim('[', ']'), out address))
        {
            return $"{host} is not an address to listen at: give localhost, an IP address of this machine, or * for every interface";
        }
        return port == 0 ? null : BindFailure(address, port) switch
        {
            null => null,
            { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse } => $"{host}:{port}: address already in use by another program (another hub, or DCC Boxed itself?)",
            var e => $"{host}:{port}: {e.Message}",
        };
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^(?<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?<host>\[[^\]/]*\]|[^:/\[\]]+)(?::(?<port>[^/]*))?/?$")]
    private static partial System.Text.RegularExpressions.Regex ListenUrl();

    /// <summary>
    /// Why a listener cannot bind <paramref name="address"/>:<paramref name="port"/> now (every interface when null),
    /// found by binding it for a moment; null when it can.
    /// </summary>
    public static System.Net.Sockets.SocketException? BindFailure(System.Net.IPAddress? address, int port)
    {
        try
        {
            using var probe = address is null ? System.Net.Sockets.TcpListener.Create(port) : new System.Net.Sockets.TcpListener(address, port);
            probe.Start();
            return null;
        }
        catch (System.Net.Sockets.SocketException e)
        {
            return e;
        }
    }

    public FileKeyStore KeyStore(ParseResult parsed) => new(Path.Combine(DataDirectory(parsed), "keys"));

    /// <summary>Adds the shared store options to a command group.</summary>
    public T WithStoreOptions<T>(T command)
        where T : Command
    {
        command.Options.Add(Data);
        command.Options.Add(Postgres);
        return command;
    }

    /// <summary>A console writing to <paramref name="output"/>: plain text, 160 columns wide, unless it is the terminal.</summary>
    internal static IAnsiConsole CreateConsole(TextWriter output)
    {
        var interactive = ReferenceEquals(output, System.Console.Out) && !System.Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (!interactive)
        {
            console.Profile.Width = 160;
        }
        return console;
    }
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.OpenApi;
using NodaTime;
using NodaTime.Text;
using OpenDcc.Core;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.SmartGrid;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Wan;
using OpenDcc.Hub.Rest;

namespace OpenDcc.Hub.SmartGrid;

/// <summary>
/// REST smart-grid reads for network operators (the seed's "ad hoc power quality reads (single or aggregate values)"):
/// <c>POST /api/v1/smart-grid/power-quality</c> reads every meter of a GSP group or of a list of MPAN cores afresh
/// and answers mean, minimum and maximum voltage and active power with the count of meters asked, answered and not;
/// <c>GET /api/v1/smart-grid/power-quality/{mpan}</c> reads one meter. Each request and its answer go to the message
/// log (<see cref="SmartGridAudit"/>).
/// </summary>
internal static partial class SmartGridEndpoints
{
    public const string Path = "/api/v1/smart-grid";

    /// <summary>The longest MPAN list one aggregate takes.</summary>
    public const int MaxMpans = 100_000;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        // A field given twice would otherwise have its last value win, unseen by the sender (or by the message log's reader).
        AllowDuplicateProperties = false,
        // The Web defaults read "10" as a number, so a number sent as a string would pass unseen; a field takes one type.
        NumberHandling = JsonNumberHandling.Strict,
    };

    /// <summary>
    /// What is wrong with the body, for its sender, and the value at fault where there is one: System.Text.Json's
    /// messages name OpenDcc's .NET types and repeat the path, which the problem's field already gives.
    /// </summary>
    /// <param name="sent">The value at <see cref="JsonException.Path"/> as sent, when the body is JSON and has one there.</param>
    private static (string Detail, string? Value) JsonFault(JsonException e, JsonElement? sent) => e.Message switch
    {
        // A \u escape of half a surrogate pair (\uD800 alone) is no character: System.Text.Json reads no string holding one.
        _ when e.InnerException is InvalidOperationException inner && inner.Message.Contains("surrogate", StringComparison.Ordinal) =>
            ("not valid text: a \\u escape here is half of a UTF-16 surrogate pair, which is no character", sent?.GetRawText()),
        var m when m.StartsWith("The JSON value could not be converted", StringComparison.Ordinal) =>
            ($"{Expected(e.Path)} is expected here, not {Described(sent)}", sent is { ValueKind: JsonValueKind.String } text ? TextOf(text) : sent?.GetRawText()),
        var m when m.StartsWith("Duplicate property", StringComparison.Ordinal) =>
            ("given twice; give each field once (names are matched ignoring case)", null),
        var m when m.Contains("could not be mapped to any .NET member", StringComparison.Ordinal) =>
            ("not a field of this request (gspGroup, mpans, deadlineSeconds)", null),
        var m => ($"not valid JSON: {(m.IndexOf(" Path: ", StringComparison.Ordinal) is >= 0 and var cut ? m[..cut] : m)}", null),
    };

    /// <summary>
    /// A string as sent; its JSON text (escapes and quotes as sent) where it holds half a surrogate pair, which
    /// <see cref="JsonElement.GetString"/> refuses to read (and no problem document could be written with).
    /// </summary>
    private static string TextOf(JsonElement text)
    {
        try
        {
            return text.GetString()!;
        }
        catch (InvalidOperationException)
        {
            return text.GetRawText();
        }
    }

    /// <summary>What a field of <see cref="PowerQualityAggregateRequest"/> takes, by its JSON path (<c>$.mpans[3]</c>).</summary>
    private static string Expected(string? path) => ListIndex().Replace(path ?? "", "[]") switch
    {
        var p when p.Equals("$.gspGroup", StringComparison.OrdinalIgnoreCase) => "a string (a GSP group, e.g. \"_A\")",
        var p when p.Equals("$.mpans", StringComparison.OrdinalIgnoreCase) => "an array of strings (MPAN cores)",
        var p when p.Equals("$.mpans[]", StringComparison.OrdinalIgnoreCase) => "a string (an MPAN core)",
        var p when p.Equals("$.deadlineSeconds", StringComparison.OrdinalIgnoreCase) => "a whole number of seconds",
        _ => "an object with gspGroup or mpans (and deadlineSeconds)",
    };

    private static string Described(JsonElement? sent) => sent switch
    {
        { ValueKind: JsonValueKind.String } text => $"the string {Excerpt.Of(text.GetRawText())}",
        { ValueKind: JsonValueKind.Number } number => $"the number {Excerpt.Of(number.GetRawText())}",
        { ValueKind: JsonValueKind.Array } => "an array",
        { ValueKind: JsonValueKind.Object } => "an object",
        { ValueKind: JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null } literal => literal.GetRawText(),
        _ => "what was sent",
    };

    /// <summary>
    /// The value at a path System.Text.Json reports (<c>$.mpans[3]</c>) in a body read again from the start (the
    /// audit filter buffers it); null if the body is not JSON throughout or has nothing there.
    /// </summary>
    private static async Task<JsonElement?> SentAtAsync(HttpRequest request, string? path, CancellationToken cancellationToken)
    {
        if (path is null || !request.Body.CanSeek)
        {
            return null;
        }
        request.Body.Position = 0;
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
        }
        catch (JsonException)
        {
            return null;
        }
        using (document)
        {
            var at = document.RootElement;
            foreach (System.Text.RegularExpressions.Match step in PathStep().Matches(path))
            {
                if (step.Groups["name"].Success && at.ValueKind == JsonValueKind.Object && at.TryGetProperty(step.Groups["name"].Value, out var property))
                {
                    at = property;
                }
                else if (step.Groups["index"].Success && at.ValueKind == JsonValueKind.Array
                    && int.TryParse(step.Groups["index"].Value, CultureInfo.InvariantCulture, out var index) && index < at.GetArrayLength())
                {
                    at = at[index];
                }
                else
                {
                    return null;
                }
            }
            return at.Clone();
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\[\d+\]")]
    private static partial System.Text.RegularExpressions.Regex ListIndex();

    [System.Text.RegularExpressions.GeneratedRegex(@"\.(?<name>[A-Za-z0-9_]+)|\[(?<index>\d+)\]")]
    private static partial System.Text.RegularExpressions.Regex PathStep();

    public static void MapSmartGridEndpoints(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup(Path).WithTags("Smart grid").RequireApiKey().AddEndpointFilter(SmartGridAudit.LogAsync);
        api.MapPost("/power-quality", AggregateAsync)
            .WithName("AggregatePowerQuality")
            .WithSummary("Reads every meter of a GSP group or of a list of MPAN cores afresh; mean, min and max voltage and active power")
            .Produces<PowerQualityAggregateAnswer>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
            {
                operation.Description = "Give exactly one of gspGroup and mpans (at most 100,000 MPAN cores); deadlineSeconds is 1 to 600, default 30.";
                // The body described here, not declared with Accepts: routing would refuse another Content-Type (415)
                // before the API key is checked, telling a caller without one about the endpoint. The endpoint checks it.
                var schema = await context.GetOrCreateSchemaAsync(typeof(PowerQualityAggregateRequest), cancellationToken: cancellationToken);
                context.Document!.AddComponent(nameof(PowerQualityAggregateRequest), schema);
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["application/json"] = new() { Schema = new OpenApiSchemaReference(nameof(PowerQualityAggregateRequest), context.Document) },
                    },
                };
            });
        api.MapGet("/power-quality/{mpan}", ReadOneAsync)
            .WithName("ReadPowerQuality")
            .WithSummary("Reads one meter's voltage and active power afresh, by the MPAN core it serves")
            .Produces<PowerQualityReadAnswer>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status502BadGateway)
            .ProducesProblem(StatusCodes.Status504GatewayTimeout)
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                // Read by the endpoint itself, so that a bad value gets the API's own problem document naming it.
                operation.Parameters ??= [];
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = "deadlineSeconds",
                    In = ParameterLocation.Query,
                    Required = false,
                    Description = "How long to wait for the meter, 1 to 600 seconds (default 30)",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "1", Maximum = "600" },
                });
                return Task.CompletedTask;
            });
    }

    private static async Task<IResult> AggregateAsync(HttpContext context, IInventoryStore inventory, PowerQualitySurvey survey, SmartGridOptions options)
    {
        var user = context.DccUser();
        var role = SmartGridAccess.Decide(user, []);
        if (!role.IsAllowed)
        {
            return Problems.Forbidden(role.Reason!);
        }
        if (UnreadQuery(context.Request, [], "its fields go in the JSON body: gspGroup, mpans, deadlineSeconds") is { } query)
        {
            return query;
        }
        if (!context.Request.HasJsonContentType())
        {
            return Problems.UnsupportedMediaType(context.Request.ContentType is { Length: > 0 } declared
                ? $"send the request as application/json, not '{declared}'"
                : "send the request as application/json; it has no Content-Type");
        }
        PowerQualityAggregateRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync<PowerQualityAggregateRequest>(context.Request.Body, Json, context.RequestAborted);
        }
        catch (JsonException e)
        {
            var (detail, value) = JsonFault(e, await SentAtAsync(context.Request, e.Path, context.RequestAborted));
            return Problems.BadField(e.Path ?? "$", value, detail);
        }
        if (request is null)
        {
            return Problems.BadRequest("the body is JSON null; send {\"gspGroup\": \"_A\"} or {\"mpans\": [\"…\"]}");
        }
        if (ReadDeadline(request.DeadlineSeconds?.ToString(CultureInfo.InvariantCulture), "deadlineSeconds", options, out var deadline) is { } badDeadline)
        {
            return badDeadline;
        }

        IReadOnlyList<Device> meters;
        var withoutMeter = 0;
        switch (request)
        {
            case { GspGroup: not null, Mpans: not null }:
                return Problems.BadField("mpans", null, "give either gspGroup or mpans, not both");
            case { GspGroup: { } groupText }:
            {
                if (!GspGroup.TryParse(groupText, out var group, out var error))
                {
                    return Problems.BadField("gspGroup", groupText, error);
                }
                var access = SmartGridAccess.Decide(user, group);
                if (!access.IsAllowed)
                {
                    return Problems.Forbidden(access.Reason!);
                }
                meters = await inventory.FindDevicesInGspGroupAsync(group, context.RequestAborted);
                break;
            }
            case { Mpans: { } texts }:
            {
                if (texts.Count is 0 or > MaxMpans)
                {
                    return Problems.BadField("mpans", null, $"give 1 to {MaxMpans:N0} MPAN cores, not {texts.Count:N0}");
                }
                var mpans = new HashSet<Mpan>();
                for (var i = 0; i < texts.Count; i++)
                {
                    if (!Mpan.TryParse(texts[i], out var mpan, out var error))
                    {
                        return Problems.BadField($"mpans[{i}]", texts[i], error);
                    }
                    mpans.Add(mpan);
                }
                var access = SmartGridAccess.Decide(user, mpans);
                if (!access.IsAllowed)
                {
                    return Problems.Forbidden(access.Reason!);
                }
                meters = await inventory.FindDevicesServingAsync([.. mpans], context.RequestAborted);
                withoutMeter = mpans.Count - meters.SelectMany(m => m.ServedMeterPoints()).Select(m => m.MeterPoint.Mpan).Where(m => m is { } core && mpans.Contains(core)).Distinct().Count();
                break;
            }
            default:
                return Problems.BadField("gspGroup", null, "give a GSP group (gspGroup, e.g. \"_A\") or a list of MPAN cores (mpans)");
        }

        var found = await survey.AggregateAsync(meters, user.Id, deadline, context.RequestAborted);
        return Results.Ok(new PowerQualityAggregateAnswer(
            request.GspGroup is null ? null : GspGroup.Parse(request.GspGroup).ToString(),
            request.Mpans?.Count,
            withoutMeter,
            deadline.TotalSeconds,
            found.MetersAsked,
            found.Answered,
            found.Unreachable,
            found.NoAnswer,
            found.Failed,
            found.Outstanding,
            found.Voltage,
            found.ActivePower,
            Format(found.FirstReadAt),
            Format(found.LastReadAt)));
    }

    private static async Task<IResult> ReadOneAsync(HttpContext context, string mpan, IInventoryStore inventory, PowerQualitySurvey survey, SmartGridOptions options)
    {
        var user = context.DccUser();
        if (!Mpan.TryParse(mpan, out var core, out var error))
        {
            return Problems.BadField("mpan", mpan, error);
        }
        var access = SmartGridAccess.Decide(user, [core]);
        if (!access.IsAllowed)
        {
            return Problems.Forbidden(access.Reason!);
        }
        if (UnreadQuery(context.Request, ["deadlineSeconds"], "it takes deadlineSeconds only") is { } query)
        {
            return query;
        }
        if (OnceInQuery(context.Request, "deadlineSeconds", DeadlineTakes(options), out var deadlineText) is { } repeated)
        {
            return repeated;
        }
        if (ReadDeadline(deadlineText, "deadlineSeconds", options, out var deadline) is { } badDeadline)
        {
            return badDeadline;
        }
        var meters = await inventory.FindDevicesServingAsync([core], context.RequestAborted);
        if (meters.Count == 0)
        {
            return Problems.NotFound($"no meter in the inventory serves MPAN {core}");
        }
        var meter = meters[0];
        return await survey.ReadAsync(meter, user.Id, deadline, context.RequestAborted) switch
        {
            null => Problems.DeadlinePassed($"meter {meter.Id} (MPAN {core}) did not answer within {deadline.TotalSeconds:0.###} s"),
            DeviceReading.Answered { Outcome: DeviceOutcome.NetworkData data } => Results.Ok(new PowerQualityReadAnswer(
                core.ToString(), meter.Id.ToString(), data.RmsVoltageDeciVolts / 10m, data.ActivePowerWatts, Format(data.At)!)),
            DeviceReading.Answered answered => Problems.DeviceFailed("I0", $"meter {meter.Id} answered {answered.Outcome}, not network data"),
            DeviceReading.Failed failed => Problems.DeviceFailed(failed.ResponseCode, $"meter {meter.Id} (MPAN {core}): {failed.Detail}"),
            _ => throw new InvalidOperationException("a reading is answered or failed"),
        };
    }

    /// <summary>Null and the deadline when the text is absent (the default) or a whole number of seconds in range; else the 400.</summary>
    private static IResult? ReadDeadline(string? text, string field, SmartGridOptions options, out Duration deadline)
    {
        deadline = options.DefaultDeadline;
        if (text is null)
        {
            return null;
        }
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds < 1 || seconds > (int)options.MaxDeadline.TotalSeconds)
        {
            return Problems.BadField(field, text, DeadlineTakes(options));
        }
        deadline = Duration.FromSeconds(seconds);
        return null;
    }

    private static string DeadlineTakes(SmartGridOptions options) => $"a whole number of seconds from 1 to {(int)options.MaxDeadline.TotalSeconds}";

    /// <summary>
    /// Null and the query parameter's value (null when absent) when it is given at most once; else the 400 naming it and
    /// what it takes: which of several values was meant is the sender's to say (names are matched ignoring case).
    /// </summary>
    private static IResult? OnceInQuery(HttpRequest request, string name, string takes, out string? value)
    {
        var values = request.Query[name];
        value = values.Count == 1 ? values[0] : null;
        return values.Count > 1
            ? Problems.BadField(name, null, $"given {values.Count} times ({string.Join(", ", (IEnumerable<string?>)values)}); give it once: {takes}")
            : null;
    }

    /// <summary>
    /// Null when every query parameter is one of <paramref name="read"/> (names matched ignoring case); else the 400
    /// naming the first other one: a parameter not read would be ignored, and the request carried out other than meant.
    /// </summary>
    private static IResult? UnreadQuery(HttpRequest request, string[] read, string takes)
    {
        foreach (var (name, values) in request.Query)
        {
            if (!read.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                return Problems.BadField(name, values.Count == 1 ? values[0] : null, $"not a query parameter of this request ({takes})");
            }
        }
        return null;
    }

    private static string? Format(Instant? at) => at is { } instant ? InstantPattern.ExtendedIso.Format(instant) : null;
}

/// <summary>An aggregate power-quality read: either a GSP group (<c>_A</c> … <c>_P</c>) or a list of MPAN cores.</summary>
/// <param name="DeadlineSeconds">How long to wait for the meters (default 30 s); the answer then says how many are outstanding.</param>
/// <remarks>Each field is optional as JSON goes (defaults null), so the OpenAPI document does not mark them required: give one of <see cref="GspGroup"/> and <see cref="Mpans"/>.</remarks>
public sealed record PowerQualityAggregateRequest(string? GspGroup = null, IReadOnlyList<string>? Mpans = null, int? DeadlineSeconds = null);

/// <summary>
/// What the meters said: voltage in volts, active import power in watts, and the meters asked, split into those that
/// answered, could not be reached (DUIS E20), did not answer (E21), failed (refused, out of service, unreadable),
/// and were still outstanding at the deadline. <see cref="MpansWithoutMeter"/> counts requested MPANs no meter in
/// the inventory serves.
/// </summary>
public sealed record PowerQualityAggregateAnswer(
    string? GspGroup,
    int? MpansRequested,
    int MpansWithoutMeter,
    double DeadlineSeconds,
    int MetersAsked,
    int Answered,
    int Unreachable,
    int NoAnswer,
    int Failed,
    int Outstanding,
    VoltageSummary? Voltage,
    ActivePowerSummary? ActivePower,
    string? FirstReadAt,
    string? LastReadAt);

/// <summary>One meter's answer: RMS voltage in volts and active import power in watts, when the meter measured them.</summary>
public sealed record PowerQualityReadAnswer(string Mpan, string Device, decimal RmsVoltage, int ActivePowerWatts, string ReadAt);

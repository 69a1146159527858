using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;
using OpenDcc.Core;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;
using OpenDcc.Core.SmartGrid;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Wan;
using OpenDcc.Simulator.Devices;

namespace OpenDcc.Hub.Tests;

/// <summary>
/// A hub whose inventory holds a simulated fleet of 300 sites (ESMEs with MPANs on the 14 DNO networks), a network
/// operator acting for the distributor of site 0's area, API keys, and one meter of that area taken off the WAN.
/// The clock moves a microsecond a reading (the comms hub grain's command counters follow it) from 50 s before a
/// minute ends, so every read is within one minute and what each simulated meter reports can be computed from the
/// simulator's own model.
/// </summary>
public sealed class SmartGridFleet : IAsyncLifetime
{
    public const int Sites = 300;

    public FakeClock Clock { get; } = new(Instant.FromUtc(2026, 11, 28, 17, 42, 10), Duration.FromTicks(10));

    public TestHub Hub { get; private set; } = null!;

    public Distributor Area => Hub.World.Wan.Fleet[0].Mpan.Distributor;

    public GspGroup Group => Area.GspGroup!.Value;

    /// <summary>A meter of the operator's area whose comms hub is offline.</summary>
    public SimulatedSite Offline { get; private set; } = null!;

    public string OperatorToken { get; private set; } = null!;

    public string SupplierToken { get; private set; } = null!;

    public string RevokedToken { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Hub = await TestHub.StartAsync(clock: Clock, sites: Sites);
        await Hub.World.AddToInventoryAsync(Hub.Store.Inventory);
        await Hub.Store.Parties.SetDistributorsAsync(TestHub.NetworkOperator, DistributorSet.Of(Area));
        Offline = Hub.World.Wan.Fleet.Sites.Last(s => s.Mpan.Distributor == Area);
        Hub.World.Wan.SetOffline(Offline.ElectricityMeter.Id, true);
        (_, OperatorToken) = await IssueAsync(TestHub.NetworkOperator);
        (_, SupplierToken) = await IssueAsync(TestHub.Supplier);
        (var revoked, RevokedToken) = await IssueAsync(TestHub.NetworkOperator);
        Assert.True(await Hub.Store.ApiKeys.RevokeAsync(revoked.Id, Clock.GetCurrentInstant()));
    }

    private async Task<(ApiKey Key, string Token)> IssueAsync(Eui64 user)
    {
        var (key, token) = ApiKey.Issue(user, Clock.GetCurrentInstant());
        await Hub.Store.ApiKeys.AddAsync(key, ApiKey.HashOf(token));
        return (key, token);
    }

    public Task DisposeAsync() => Hub.DisposeAsync().AsTask();
}

public sealed class SmartGridTests(SmartGridFleet fleet) : IClassFixture<SmartGridFleet>
{
    private const string Aggregate = "/api/v1/smart-grid/power-quality";

    [Fact]
    public async Task An_aggregate_over_a_gsp_group_is_the_mean_min_and_max_of_what_its_meters_report_and_the_offline_one_is_unreachable()
    {
        var sites = fleet.Hub.World.Wan.Fleet.Sites.Where(s => s.Mpan.Distributor.GspGroup == fleet.Group).ToList();
        var expected = Expect(sites.Where(s => s != fleet.Offline));

        var (status, _, body) = await PostAsync(fleet.OperatorToken, $$"""{"gspGroup": "{{fleet.Group}}", "deadlineSeconds": 60}""");

        Assert.Equal(HttpStatusCode.OK, status);
        var answer = body.RootElement;
        Assert.Equal(fleet.Group.ToString(), answer.GetProperty("gspGroup").GetString());
        Assert.True(sites.Count >= 10, $"only {sites.Count} sites in {fleet.Group}");
        Assert.Equal(sites.Count, answer.GetProperty("metersAsked").GetInt32());
        Assert.Equal(sites.Count - 1, answer.GetProperty("answered").GetInt32());
        Assert.Equal(1, answer.GetProperty("unreachable").GetInt32());
        Assert.Equal(0, answer.GetProperty("outstanding").GetInt32());
        AssertSummaries(expected, answer);
    }

    [Fact]
    public async Task A_gsp_group_selects_exactly_the_meters_on_its_dno_network()
    {
        var all = await fleet.Hub.Store.Inventory.ListDevicesAsync();
        var expected = fleet.Hub.World.Wan.Fleet.Sites.Where(s => s.Mpan.Distributor.GspGroup == fleet.Group).Select(s => s.ElectricityMeter.Id).Order().ToList();

        var selected = await fleet.Hub.Store.Inventory.FindDevicesInGspGroupAsync(fleet.Group);
        var (_, _, body) = await PostAsync(fleet.OperatorToken, $$"""{"gspGroup": "{{fleet.Group}}"}""");

        Assert.Equal(expected, selected.Select(d => d.Id));
        Assert.True(all.Count(d => d.Mpan is not null) > expected.Count, "the fleet has meters in other groups too");
        Assert.Equal(expected.Count, body.RootElement.GetProperty("metersAsked").GetInt32());
    }

    [Fact]
    public async Task An_aggregate_over_mpans_reads_exactly_those_meters_and_counts_an_mpan_no_meter_serves()
    {
        var sites = fleet.Hub.World.Wan.Fleet.Sites.Where(s => s.Mpan.Distributor == fleet.Area && s != fleet.Offline).Take(5).ToList();
        var nobody = Mpan.Create(fleet.Area.Id, 9_999_999_999L);
        var mpans = string.Join(", ", sites.Select(s => $"\"{s.Mpan}\"").Append($"\"{nobody}\""));

        var (status, _, body) = await PostAsync(fleet.OperatorToken, $$"""{"mpans": [{{mpans}}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        var answer = body.RootElement;
        Assert.Equal(6, answer.GetProperty("mpansRequested").GetInt32());
        Assert.Equal(1, answer.GetProperty("mpansWithoutMeter").GetInt32());
        Assert.Equal(5, answer.GetProperty("metersAsked").GetInt32());
        Assert.Equal(5, answer.GetProperty("answered").GetInt32());
        AssertSummaries(Expect(sites), answer);
    }

    [Fact]
    public async Task A_single_meter_read_by_mpan_answers_what_that_meter_reports()
    {
        var site = fleet.Hub.World.Wan.Fleet.Sites.First(s => s.Mpan.Distributor == fleet.Area && SimulatedWorldFormat(s) == "early");
        var data = (DeviceOutcome.NetworkData)site.ElectricityMeter.Execute(new DeviceOperation.ReadNetworkData(), fleet.Clock.GetCurrentInstant());

        var (status, _, body) = await GetAsync(fleet.OperatorToken, $"{Aggregate}/{site.Mpan}");

        Assert.True(status == HttpStatusCode.OK, body.RootElement.ToString());
        Assert.Equal(site.ElectricityMeter.Id.ToString(), body.RootElement.GetProperty("device").GetString());
        Assert.Equal(data.RmsVoltageDeciVolts / 10m, body.RootElement.GetProperty("rmsVoltage").GetDecimal());
        Assert.Equal(data.ActivePowerWatts, body.RootElement.GetProperty("activePowerWatts").GetInt32());
    }

    [Fact]
    public async Task Every_smart_grid_request_and_its_answer_are_in_the_message_log_under_the_operator_with_the_status()
    {
        var site = fleet.Hub.World.Wan.Fleet.Sites.Where(s => s.Mpan.Distributor == fleet.Area && s != fleet.Offline).Skip(3).First();
        var elsewhere = fleet.Hub.World.Wan.Fleet.Sites.First(s => s.Mpan.Distributor != fleet.Area);
        // Deadlines no other test uses mark these two requests in the shared hub's log.
        var (readStatus, _, _) = await PostAsync(fleet.OperatorToken, $$"""{"mpans": ["{{site.Mpan}}"], "deadlineSeconds": 59}""");
        var (refusedStatus, _, _) = await GetAsync(fleet.OperatorToken, $"{Aggregate}/{elsewhere.Mpan}?deadlineSeconds=58");

        var entries = new List<MessageLogEntry>();
        await foreach (var entry in fleet.Hub.Store.MessageLog.ReadAsync())
        {
            entries.Add(entry);
        }
        static string Text(MessageLogEntry e) => Encoding.UTF8.GetString(e.Record.Payload.Span);
        var read = Assert.Single(entries, e => e.Record.Direction == MessageDirection.Inbound && Text(e).Contains("\"deadlineSeconds\": 59", StringComparison.Ordinal));
        var readAnswer = Assert.Single(entries, e => e.Record.Direction == MessageDirection.Outbound && e.Record.Correlation == read.Record.Correlation);
        var refused = Assert.Single(entries, e => e.Record.Direction == MessageDirection.Inbound && Text(e).Contains("deadlineSeconds=58", StringComparison.Ordinal));
        var refusal = Assert.Single(entries, e => e.Record.Direction == MessageDirection.Outbound && e.Record.Correlation == refused.Record.Correlation);

        Assert.Equal(HttpStatusCode.OK, readStatus);
        Assert.StartsWith("POST /api/v1/smart-grid/power-quality\n\n{", Text(read), StringComparison.Ordinal);
        Assert.All([read, readAnswer, refused, refusal], e => Assert.Equal(TestHub.NetworkOperator, e.Record.User));
        Assert.Equal(["200", "200"], [read.Record.Outcome, readAnswer.Record.Outcome]);
        using (var answer = JsonDocument.Parse(readAnswer.Record.Payload))
        {
            Assert.Equal(1, answer.RootElement.GetProperty("answered").GetInt32());
        }
        Assert.Equal(HttpStatusCode.Forbidden, refusedStatus);
        Assert.StartsWith($"GET {Aggregate}/{elsewhere.Mpan}?deadlineSeconds=58", Text(refused), StringComparison.Ordinal);
        Assert.Equal(["403", "403"], [refused.Record.Outcome, refusal.Record.Outcome]);
        Assert.Contains(elsewhere.Mpan.ToString(), Text(refusal), StringComparison.Ordinal);
        Assert.NotEqual(read.Record.Correlation, refused.Record.Correlation);
        Assert.True((await MessageLogChain.VerifyAsync(fleet.Hub.Store.MessageLog)).IsIntact);
    }

    [Fact]
    public async Task A_single_read_of_an_offline_meter_is_a_502_problem_carrying_e20()
    {
        var (status, type, body) = await GetAsync(fleet.OperatorToken, $"{Aggregate}/{fleet.Offline.Mpan}");

        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Equal("application/problem+json", type);
        Assert.Equal("E20", body.RootElement.GetProperty("duisResponseCode").GetString());
    }

    [Fact]
    public async Task An_mpan_or_gsp_group_outside_the_operators_area_is_refused_with_403_naming_it()
    {
        var elsewhere = fleet.Hub.World.Wan.Fleet.Sites.First(s => s.Mpan.Distributor != fleet.Area);
        var inside = fleet.Hub.World.Wan.Fleet.Sites.First(s => s.Mpan.Distributor == fleet.Area);

        var (listStatus, listType, list) = await PostAsync(fleet.OperatorToken, $$"""{"mpans": ["{{inside.Mpan}}", "{{elsewhere.Mpan}}"]}""");
        var (groupStatus, _, group) = await PostAsync(fleet.OperatorToken, $$"""{"gspGroup": "{{elsewhere.Mpan.Distributor.GspGroup}}"}""");
        var (singleStatus, _, _) = await GetAsync(fleet.OperatorToken, $"{Aggregate}/{elsewhere.Mpan}");

        Assert.Equal(HttpStatusCode.Forbidden, listStatus);
        Assert.Equal("application/problem+json", listType);
        Assert.Contains(elsewhere.Mpan.ToString(), list.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, groupStatus);
        Assert.Contains(elsewhere.Mpan.Distributor.GspGroup.ToString()!, group.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, singleStatus);
    }

    [Fact]
    public async Task A_user_who_is_not_a_network_operator_is_refused_with_403()
    {
        var (status, type, body) = await PostAsync(fleet.SupplierToken, $$"""{"gspGroup": "{{fleet.Group}}"}""");

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("application/problem+json", type);
        Assert.Contains("ED", body.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "no Authorization header")]
    [InlineData("Basic dXNlcjpwYXNz", "Basic scheme")]
    [InlineData("Bearer not-a-key", "not an OpenDcc API key")]
    [InlineData("Bearer odcc_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "unknown API key")]
    public async Task A_request_without_a_known_api_key_gets_401_problem_saying_why(string? authorization, string reason)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Aggregate) { Content = new StringContent($$"""{"gspGroup": "{{fleet.Group}}"}""", Encoding.UTF8, "application/json") };
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        var (status, type, body) = await SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("application/problem+json", type);
        Assert.Contains(reason, body.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_revoked_api_key_gets_401_naming_its_revocation()
    {
        var (status, _, body) = await PostAsync(fleet.RevokedToken, $$"""{"gspGroup": "{{fleet.Group}}"}""");

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("revoked", body.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"gspGroup": "_Z"}""", "gspGroup", "_Z")]
    [InlineData("""{"mpans": ["1234"]}""", "mpans[0]", "1234")]
    [InlineData("""{"mpans": []}""", "mpans", null)]
    [InlineData("""{"gspGroup": "_A", "mpans": ["1300000000000"]}""", "mpans", null)]
    [InlineData("""{}""", "gspGroup", null)]
    [InlineData("""{"gspGroup": "_A", "deadlineSeconds": 0}""", "deadlineSeconds", "0")]
    [InlineData("""{"gspGroup": "_A", "deadlineSeconds": "soon"}""", "$.deadlineSeconds", "soon", "$.deadlineSeconds: a whole number of seconds is expected here, not the string \"soon\"")]
    [InlineData("""{"gspGroup": "_A", "deadlineSeconds": "10"}""", "$.deadlineSeconds", "10", "$.deadlineSeconds: a whole number of seconds is expected here, not the string \"10\"")]
    [InlineData("""{"gspGroup": "_A", "deadlineSeconds": 99999999999}""", "$.deadlineSeconds", "99999999999", "$.deadlineSeconds: a whole number of seconds is expected here, not the number 99999999999")]
    [InlineData("""{"gspGroup": 7}""", "$.gspGroup", "7", "$.gspGroup: a string (a GSP group, e.g. \"_A\") is expected here, not the number 7")]
    [InlineData("""{"mpans": "1300000000000"}""", "$.mpans", "1300000000000", "$.mpans: an array of strings (MPAN cores) is expected here, not the string \"1300000000000\"")]
    [InlineData("""{"mpans": ["1300000000000", {"core": 1}]}""", "$.mpans[1]", """{"core": 1}""", "$.mpans[1]: a string (an MPAN core) is expected here, not an object")]
    [InlineData("""{"gspGroup": "_A", "gspGroup": "_B"}""", "$.gspGroup", null, "$.gspGroup: given twice; give each field once")]
    [InlineData("""{"gspGroup": "_A", "GSPGROUP": "_B"}""", "$.GSPGROUP", null, "given twice")]
    [InlineData("""{"gspGroup": "_A", "colour": "blue"}""", "$.colour", null, "not a field of this request")]
    [InlineData("""{"gspGroup": """, "$.gspGroup", null, "not valid JSON")]
    public async Task Bad_input_gets_a_400_problem_naming_the_field_and_the_value(string json, string field, string? value, string? fault = null)
    {
        var (status, type, body) = await PostAsync(fleet.OperatorToken, json);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("application/problem+json", type);
        Assert.Equal(field, body.RootElement.GetProperty("field").GetString());
        Assert.Equal(value, body.RootElement.GetProperty("value").GetString());
        var detail = body.RootElement.GetProperty("detail").GetString()!;
        Assert.Contains(fault ?? "", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("OpenDcc.", detail, StringComparison.Ordinal); // no .NET type names
        Assert.DoesNotContain("LineNumber", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_value_megabytes_long_is_quoted_cut_short()
    {
        var (status, _, body) = await PostAsync(fleet.OperatorToken, $$"""{"mpans": ["{{new string('1', 1_000_000)}}"]}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("mpans[0]", body.RootElement.GetProperty("field").GetString());
        Assert.Equal(new string('1', Excerpt.MaxLength) + "… (1,000,000 characters in all)", body.RootElement.GetProperty("value").GetString());
        Assert.EndsWith("characters in all)", body.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_mpan_in_a_single_read_gets_a_400_problem_naming_it()
    {
        var (status, _, body) = await GetAsync(fleet.OperatorToken, $"{Aggregate}/12345");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("mpan", body.RootElement.GetProperty("field").GetString());
        Assert.Equal("12345", body.RootElement.GetProperty("value").GetString());
    }

    [Theory]
    [InlineData("?deadlineSeconds=5&deadlineSeconds=6", null, "deadlineSeconds: given 2 times (5, 6); give it once: a whole number of seconds from 1 to 600")]
    [InlineData("?deadlineSeconds=5&DEADLINESECONDS=5", null, "deadlineSeconds: given 2 times (5, 5); give it once")]
    [InlineData("?deadlineSeconds=0", "0", "deadlineSeconds: a whole number of seconds from 1 to 600")]
    [InlineData("?deadlineSeconds=%2B5", "+5", "deadlineSeconds: a whole number of seconds from 1 to 600")]
    public async Task A_bad_or_repeated_deadline_on_a_single_read_gets_a_400_problem_naming_it(string query, string? value, string fault)
    {
        var site = fleet.Hub.World.Wan.Fleet.Sites.First(s => s.Mpan.Distributor == fleet.Area);

        var (status, type, body) = await GetAsync(fleet.OperatorToken, $"{Aggregate}/{site.Mpan}{query}");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("application/problem+json", type);
        Assert.Equal("deadlineSeconds", body.RootElement.GetProperty("field").GetString());
        Assert.Equal(value, body.RootElement.GetProperty("value").GetString());
        Assert.StartsWith(fault, body.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_openapi_document_describes_the_smart_grid_endpoints_and_their_bearer_api_keys()
    {
        using var response = await fleet.Hub.Http.GetAsync(new Uri("/openapi/v1.json", UriKind.Relative));
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var paths = document.RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty(Aggregate, out _));
        Assert.True(paths.TryGetProperty(Aggregate + "/{mpan}", out _));
        Assert.False(paths.TryGetProperty("/api/v1/serviceS", out _));
        Assert.Equal("bearer", document.RootElement.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey").GetProperty("scheme").GetString());
        Assert.True(paths.GetProperty(Aggregate).GetProperty("post").GetProperty("security")[0].TryGetProperty("ApiKey", out _));
        // As the API takes them: the aggregate's fields optional (one of gspGroup and mpans), a read's deadline a query parameter.
        var request = document.RootElement.GetProperty("components").GetProperty("schemas").GetProperty("PowerQualityAggregateRequest");
        var body = paths.GetProperty(Aggregate).GetProperty("post").GetProperty("requestBody");
        Assert.True(body.GetProperty("required").GetBoolean());
        Assert.Equal("#/components/schemas/PowerQualityAggregateRequest", body.GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
        Assert.False(request.TryGetProperty("required", out var required) && required.GetArrayLength() > 0, $"required: {required}");
        var deadlineType = request.GetProperty("properties").GetProperty("deadlineSeconds").GetProperty("type");
        Assert.DoesNotContain("string", deadlineType.EnumerateArray().Select(t => t.GetString())); // a number, not a number in a string
        var parameters = paths.GetProperty(Aggregate + "/{mpan}").GetProperty("get").GetProperty("parameters").EnumerateArray().ToList();
        Assert.Contains(parameters, p => p.GetProperty("name").GetString() == "deadlineSeconds" && p.GetProperty("in").GetString() == "query");
        Assert.True(paths.GetProperty(Aggregate).GetProperty("post").GetProperty("responses").TryGetProperty("415", out _));
    }

    private static string SimulatedWorldFormat(SimulatedSite site) =>
        OpenDcc.Simulator.Wan.SimulatedWorld.FormatOf(site) == OpenDcc.Simulator.Wan.WireFormat.EarlySmart ? "early" : "gbcs";

    /// <summary>What the meters of these sites report now, by the simulator's own model.</summary>
    private List<DeviceOutcome.NetworkData> Expect(IEnumerable<SimulatedSite> sites) =>
        [.. sites.Select(s => (DeviceOutcome.NetworkData)s.ElectricityMeter.Execute(new DeviceOperation.ReadNetworkData(), fleet.Clock.GetCurrentInstant()))];

    private static void AssertSummaries(List<DeviceOutcome.NetworkData> expected, JsonElement answer)
    {
        var voltage = answer.GetProperty("voltage");
        Assert.Equal(Math.Round(expected.Sum(d => (decimal)d.RmsVoltageDeciVolts) / 10m / expected.Count, 2), voltage.GetProperty("mean").GetDecimal());
        Assert.Equal(expected.Min(d => d.RmsVoltageDeciVolts) / 10m, voltage.GetProperty("min").GetDecimal());
        Assert.Equal(expected.Max(d => d.RmsVoltageDeciVolts) / 10m, voltage.GetProperty("max").GetDecimal());
        var power = answer.GetProperty("activePower");
        Assert.Equal(expected.Sum(d => (long)d.ActivePowerWatts), power.GetProperty("total").GetInt64());
        Assert.Equal(expected.Min(d => d.ActivePowerWatts), power.GetProperty("min").GetInt32());
        Assert.Equal(expected.Max(d => d.ActivePowerWatts), power.GetProperty("max").GetInt32());
    }

    [Fact]
    public async Task A_refusal_the_endpoint_or_routing_makes_says_what_is_wrong()
    {
        var wrongType = new HttpRequestMessage(HttpMethod.Post, Aggregate) { Content = new StringContent("""{"gspGroup": "_G"}""", Encoding.UTF8, "text/plain") };
        wrongType.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fleet.OperatorToken);
        var (status, type, body) = await SendAsync(wrongType);
        Assert.Equal((HttpStatusCode.UnsupportedMediaType, "application/problem+json"), (status, type));
        Assert.Equal("send the request as application/json, not 'text/plain; charset=utf-8'", body.RootElement.GetProperty("detail").GetString());

        (status, _, body) = await GetAsync(fleet.OperatorToken, "/api/v1/smart-grid/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.StartsWith("nothing is served at /api/v1/smart-grid/nothing-here: DUIS is at /api/v1/serviceS", body.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);

        (status, _, body) = await SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/v1/serviceS"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, status);
        Assert.Equal("/api/v1/serviceS does not take GET", body.RootElement.GetProperty("detail").GetString());
    }

    private Task<(HttpStatusCode Status, string Type, JsonDocument Body)> PostAsync(string token, string json)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Aggregate) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return SendAsync(request);
    }

    private Task<(HttpStatusCode Status, string Type, JsonDocument Body)> GetAsync(string token, string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return SendAsync(request);
    }

    private async Task<(HttpStatusCode Status, string Type, JsonDocument Body)> SendAsync(HttpRequestMessage request)
    {
        using (request)
        {
            using var response = await fleet.Hub.Http.SendAsync(request);
            return (response.StatusCode, response.Content.Headers.ContentType?.MediaType ?? "", JsonDocument.Parse(await response.Content.ReadAsStringAsync()));
        }
    }
}

/// <summary>Deadlines and bounded fan-out, over a slow simulated WAN.</summary>
public sealed class SmartGridDeadlineTests
{
    [Fact]
    public async Task Meters_that_have_not_answered_by_the_deadline_are_outstanding_and_the_answer_comes_at_the_deadline()
    {
        await using var hub = await TestHub.StartAsync(wanLatency: Duration.FromSeconds(4), sites: 40, smartGrid: SmartGridOptions.Default with { Concurrency = 8 });
        await hub.World.AddToInventoryAsync(hub.Store.Inventory);
        // An operator of every DNO network, asking for every meter of the fleet.
        await hub.Store.Parties.SetDistributorsAsync(TestHub.NetworkOperator, DistributorSet.Of(Distributor.All.Where(d => !d.IsIdno)));
        var (key, token) = ApiKey.Issue(TestHub.NetworkOperator, SystemClock.Instance.GetCurrentInstant());
        await hub.Store.ApiKeys.AddAsync(key, ApiKey.HashOf(token));
        var returns = hub.Services.GetRequiredService<DeviceReadReturns>();
        var mpans = string.Join(", ", hub.World.Wan.Fleet.Sites.Select(s => $"\"{s.Mpan}\""));
        var asked = hub.World.Wan.Fleet.Count;

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/smart-grid/power-quality") { Content = new StringContent($$"""{"mpans": [{{mpans}}], "deadlineSeconds": 1}""", Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var most = 0;
        using var watching = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            while (!watching.IsCancellationRequested)
            {
                most = Math.Max(most, returns.Waiting);
                await Task.Delay(5);
            }
        });
        var timer = Stopwatch.StartNew();
        using var response = await hub.Http.SendAsync(request);
        timer.Stop();
        await watching.CancelAsync();
        await watcher;
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.InRange(timer.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(3.5));
        Assert.Equal(asked, body.RootElement.GetProperty("metersAsked").GetInt32());
        Assert.Equal(0, body.RootElement.GetProperty("answered").GetInt32());
        Assert.Equal(asked, body.RootElement.GetProperty("outstanding").GetInt32());
        Assert.Equal(JsonValueKind.Null, body.RootElement.GetProperty("voltage").ValueKind);
        // At most the configured number of meters were being read at once, and nothing is kept once the answer is out.
        Assert.InRange(most, 2, 8);
        Assert.Equal(0, returns.Waiting);
    }
}

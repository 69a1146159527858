using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using OpenDcc.Core;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;

namespace OpenDcc.Hub.Tests;

/// <summary>A small hub for the smart-grid probes: 20 sites in the inventory, an operator of site 0's area, keys.</summary>
public sealed class SmartGridProbeHub : IAsyncLifetime
{
    public static readonly Eui64 SuspendedOperator = Eui64.Parse("90-B3-D5-1F-30-02-00-09");

    public TestHub Hub { get; private set; } = null!;

    public Distributor Area => Hub.World.Wan.Fleet[0].Mpan.Distributor;

    public string OperatorToken { get; private set; } = null!;

    public string SupplierToken { get; private set; } = null!;

    public string RevokedToken { get; private set; } = null!;

    public string SuspendedToken { get; private set; } = null!;

    /// <summary>
    /// A request carrying this header (a tag of the test's) is held, before any of the hub's own handling, until its
    /// client has gone away (<see cref="HeldRequest"/>).
    /// </summary>
    public const string HoldHeader = "X-Test-Hold-Until-Gone";

    private readonly ConcurrentDictionary<string, HeldRequest> held = new();

    /// <summary>The request tagged <paramref name="tag"/> with <see cref="HoldHeader"/>, once it reaches the hub.</summary>
    public HeldRequest Held(string tag) => held.GetOrAdd(tag, _ => new HeldRequest());

    public async Task InitializeAsync()
    {
        Hub = await TestHub.StartAsync(sites: 20, configureServices: services => services.AddSingleton<IStartupFilter>(new HoldUntilGone(this)));
        await Hub.World.AddToInventoryAsync(Hub.Store.Inventory);
        await Hub.Store.Parties.SetDistributorsAsync(TestHub.NetworkOperator, DistributorSet.Of(Area));
        await Hub.Store.Parties.AddUserAsync(new DccUser(SuspendedOperator, "Suspended DNO", DccUserRole.ElectricityDistributor, DccUserStatus.Suspended));
        await Hub.Store.Parties.SetDistributorsAsync(SuspendedOperator, DistributorSet.Of(Area));
        (_, OperatorToken) = await IssueAsync(TestHub.NetworkOperator);
        (_, SupplierToken) = await IssueAsync(TestHub.Supplier);
        (_, SuspendedToken) = await IssueAsync(SuspendedOperator);
        (var revoked, RevokedToken) = await IssueAsync(TestHub.NetworkOperator);
        Assert.True(await Hub.Store.ApiKeys.RevokeAsync(revoked.Id, SystemClock.Instance.GetCurrentInstant()));
    }

    private async Task<(ApiKey Key, string Token)> IssueAsync(Eui64 user)
    {
        var (key, token) = ApiKey.Issue(user, SystemClock.Instance.GetCurrentInstant());
        await Hub.Store.ApiKeys.AddAsync(key, ApiKey.HashOf(token));
        return (key, token);
    }

    public Task DisposeAsync() => Hub.DisposeAsync().AsTask();

    /// <summary>
    /// Forces the order of a race a test cannot otherwise win: the client of a request tagged with
    /// <see cref="HoldHeader"/> goes away (the test closes its connection once <see cref="HeldRequest.Arrived"/>)
    /// before the hub has authenticated it, run its handler or read any of its body.
    /// </summary>
    private sealed class HoldUntilGone(SmartGridProbeHub fixture) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, handle) =>
            {
                if (context.Request.Headers[HoldHeader] is not [{ } tag])
                {
                    await handle(context);
                    return;
                }
                var request = fixture.Held(tag);
                request.Trace = context.TraceIdentifier;
                request.Arrived.TrySetResult();
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                }
                request.GoneFirst = context.RequestAborted.IsCancellationRequested;
                try
                {
                    await handle(context);
                }
                finally
                {
                    request.Handled.TrySetResult();
                }
            });
            next(app);
        };
    }
}

/// <summary>A request held by <see cref="SmartGridProbeHub.HoldHeader"/> until its client went away.</summary>
public sealed class HeldRequest
{
    /// <summary>The request reached the hub and is held.</summary>
    public TaskCompletionSource Arrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The hub has done with the request (whatever it logs is in the message log).</summary>
    public TaskCompletionSource Handled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Its trace identifier, which the smart-grid message log correlates it by.</summary>
    public string? Trace { get; set; }

    /// <summary>Its client had gone away before the hub handled it (not merely held for the longest a hold lasts).</summary>
    public bool GoneFirst { get; set; }
}

/// <summary>
/// Adversarial probes of the REST smart-grid API and the hub's other HTTP surfaces: odd API keys and Authorization
/// headers, bodies no JSON reader should choke on, odd MPANs, paths, queries and methods, and many requests at once.
/// None may get a 5xx; each refusal is a problem document saying what is wrong, and the message log stays intact.
/// </summary>
public sealed class SmartGridAdversarialTests(SmartGridProbeHub fixture) : IClassFixture<SmartGridProbeHub>
{
    private const string Aggregate = "/api/v1/smart-grid/power-quality";

    private string Mpan => fixture.Hub.World.Wan.Fleet.Sites.First(s => s.Mpan.Distributor == fixture.Area).Mpan.ToString();

    private string Group => fixture.Area.GspGroup!.Value.ToString();

    private string Bearer => "Bearer " + fixture.OperatorToken;

    [Theory]
    [InlineData("bearer {operator}", HttpStatusCode.OK, null)]
    [InlineData("BEARER {operator}", HttpStatusCode.OK, null)]
    [InlineData("Bearer    {operator}\t", HttpStatusCode.OK, null)]
    [InlineData("Bearer", HttpStatusCode.Unauthorized, "no API key after Bearer")]
    [InlineData("Bearer ", HttpStatusCode.Unauthorized, "no API key after Bearer")]
    [InlineData("{operator}", HttpStatusCode.Unauthorized, "scheme is not accepted")]
    [InlineData("Bearer {OPERATOR}", HttpStatusCode.Unauthorized, "not an OpenDcc API key")]
    [InlineData("Bearer {operator}x", HttpStatusCode.Unauthorized, "not an OpenDcc API key")]
    [InlineData("Bearer {operator}, Bearer {operator}", HttpStatusCode.Unauthorized, "not an OpenDcc API key")]
    [InlineData("Bearer {revoked}", HttpStatusCode.Unauthorized, "was revoked at")]
    [InlineData("Bearer {suspended}", HttpStatusCode.Forbidden, "is suspended")]
    [InlineData("Bearer {supplier}", HttpStatusCode.Forbidden, "for electricity distributors (ED)")]
    [InlineData("Bearer {long}", HttpStatusCode.Unauthorized, "not an OpenDcc API key")]
    [InlineData("{long} {operator}", HttpStatusCode.Unauthorized, "characters in all)")]
    public async Task An_odd_authorization_header_gets_a_problem_saying_why_or_is_read_as_the_key_it_holds(string header, HttpStatusCode expected, string? reason)
    {
        var authorization = header.Replace("{operator}", fixture.OperatorToken, StringComparison.Ordinal)
            .Replace("{OPERATOR}", fixture.OperatorToken.ToUpperInvariant(), StringComparison.Ordinal)
            .Replace("{revoked}", fixture.RevokedToken, StringComparison.Ordinal)
            .Replace("{suspended}", fixture.SuspendedToken, StringComparison.Ordinal)
            .Replace("{supplier}", fixture.SupplierToken, StringComparison.Ordinal)
            .Replace("{long}", new string('x', 10_000), StringComparison.Ordinal);

        var (status, type, body) = await SendAsync(HttpMethod.Get, $"{Aggregate}/{Mpan}", authorization);

        Assert.Equal(expected, status);
        if (reason is not null)
        {
            Assert.Equal("application/problem+json", type);
            using var problem = JsonDocument.Parse(body);
            Assert.Contains(reason, problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.InRange(body.Length, 1, 2 * Excerpt.MaxLength);
        }
    }

    [Theory]
    [InlineData("Authorization: Bearer {operator}\r\nAuthorization: Bearer {operator}", 401)]
    [InlineData("Authorization: Bearer {operator}\u00E9", 400)]
    [InlineData("Authorization: Bearer \u0001{operator}", 401)]
    [InlineData("Authorization: Bearer {huge}", 431)]
    [InlineData("Authorization : Bearer {operator}", 400)]
    public async Task A_header_that_is_not_one_gets_a_4xx_not_a_5xx(string header, int expected)
    {
        var lines = header.Replace("{operator}", fixture.OperatorToken, StringComparison.Ordinal).Replace("{huge}", new string('x', 40_000), StringComparison.Ordinal);
        using var client = new TcpClient();
        await client.ConnectAsync(fixture.Hub.Http.BaseAddress!.Host, fixture.Hub.Http.BaseAddress.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes($"GET {Aggregate}/{Mpan} HTTP/1.1\r\nHost: x\r\n{lines}\r\nConnection: close\r\n\r\n"));
        using var reader = new StreamReader(stream, Encoding.Latin1);

        var statusLine = await reader.ReadLineAsync();

        Assert.StartsWith($"HTTP/1.1 {expected}", statusLine, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_revoked_after_use_is_refused_on_its_next_request()
    {
        var (key, token) = ApiKey.Issue(TestHub.NetworkOperator, SystemClock.Instance.GetCurrentInstant());
        await fixture.Hub.Store.ApiKeys.AddAsync(key, ApiKey.HashOf(token));
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, $"{Aggregate}/{Mpan}", "Bearer " + token)).Status);

        Assert.True(await fixture.Hub.Store.ApiKeys.RevokeAsync(key.Id, SystemClock.Instance.GetCurrentInstant()));
        var (status, _, body) = await SendAsync(HttpMethod.Get, $"{Aggregate}/{Mpan}", "Bearer " + token);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("was revoked at", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_well_formed_mpan_of_the_operators_area_that_no_meter_serves_gets_a_404_problem()
    {
        var nobody = OpenDcc.Core.Identifiers.Mpan.Create(fixture.Area.Id, 9_999_999_999L);

        var (status, type, body) = await SendAsync(HttpMethod.Get, $"{Aggregate}/{nobody}", Bearer);

        Assert.Equal((HttpStatusCode.NotFound, "application/problem+json"), (status, type));
        Assert.Contains(nobody.ToString(), body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_without_a_content_type_gets_a_415_saying_it_has_none()
    {
        var (status, type, body) = await SendAsync(HttpMethod.Post, Aggregate, Bearer, $$"""{"gspGroup": "{{Group}}"}""", contentType: null);

        Assert.Equal((HttpStatusCode.UnsupportedMediaType, "application/problem+json"), (status, type));
        using var problem = JsonDocument.Parse(body);
        Assert.Equal("send the request as application/json; it has no Content-Type", problem.RootElement.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("""{"gspGroup": "\uD800"}""", "$.gspGroup", "\"\\uD800\"", "half of a UTF-16 surrogate pair")]
    [InlineData("""{"gspGroup": "_A\uDC00"}""", "$.gspGroup", "\"_A\\uDC00\"", "half of a UTF-16 surrogate pair")]
    [InlineData("""{"mpans": ["13\uD800"]}""", "$.mpans[0]", "\"13\\uD800\"", "half of a UTF-16 surrogate pair")]
    [InlineData("""{"gspGroup": "_A", "deadlineSeconds": "\uD800"}""", "$.deadlineSeconds", "\"\\uD800\"", "a whole number of seconds is expected here, not the string \"\\uD800\"")]
    [InlineData("""{"gspGroup": "_A", "\uD800": 1}""", "$", """{"gspGroup": "_A", "\uD800": 1}""", "half of a UTF-16 surrogate pair")]
    public async Task A_json_escape_of_half_a_surrogate_pair_gets_a_400_naming_the_field_not_a_500(string json, string field, string value, string fault)
    {
        var (status, type, body) = await SendAsync(HttpMethod.Post, Aggregate, Bearer, json);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("application/problem+json", type);
        using var problem = JsonDocument.Parse(body);
        Assert.Equal(field, problem.RootElement.GetProperty("field").GetString());
        Assert.Equal(value, problem.RootElement.GetProperty("value").GetString());
        Assert.Contains(fault, problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_property_with_a_very_long_name_is_named_cut_short()
    {
        var (status, _, body) = await SendAsync(HttpMethod.Post, Aggregate, Bearer, $$"""{"gspGroup": "_A", "{{new string('q', 100_000)}}": 1}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        using var problem = JsonDocument.Parse(body);
        Assert.EndsWith("(100,002 characters in all)", problem.RootElement.GetProperty("field").GetString(), StringComparison.Ordinal);
        Assert.InRange(body.Length, 1, 4 * Excerpt.MaxLength);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("\"x\"")]
    [InlineData("123")]
    [InlineData("{")]
    [InlineData("}")]
    [InlineData("{}{}")]
    [InlineData("{\"gspGroup\": \"_A\"} /* c */")]
    [InlineData("{\"gspGroup\": \"_A\",}")]
    [InlineData("{\"gspGroup\": '_A'}")]
    [InlineData("{\"mpans\": [null]}")]
    [InlineData("{\"mpans\": null}")]
    [InlineData("{\"gspGroup\": null, \"mpans\": null, \"deadlineSeconds\": null}")]
    [InlineData("{\"gspGroup\": \"_A\\u0000\"}")]
    [InlineData("{\"gspGroup\": [\"_A\"]}")]
    [InlineData("{\"gspGroup\": {}}")]
    [InlineData("{\"mpans\": {\"0\": \"1300000000000\"}}")]
    [InlineData("{\"gspGroup\": \"_A\", \"deadlineSeconds\": 1.0}")]
    [InlineData("{\"gspGroup\": \"_A\", \"deadlineSeconds\": 1e1}")]
    [InlineData("{\"gspGroup\": \"_A\", \"deadlineSeconds\": -1}")]
    [InlineData("{\"gspGroup\": \"_A\", \"deadlineSeconds\": -0}")]
    [InlineData("{\"gspGroup\": \"_A\", \"deadlineSeconds\": 01}")]
    [InlineData("{\"gspGroup\": \"_A\", \"deadlineSeconds\": 601}")]
    [InlineData("{\"gspGroup\": \"_A\", \"deadlineSeconds\": 2147483648}")]
    [InlineData("{\"gspGroup\": \"_A\", \"deadlineSeconds\": 1e400}")]
    [InlineData("{\"gspGroup\": \"_A\", \"deadlineSeconds\": NaN}")]
    [InlineData("{\"gspGroup\": \"_A\", \"deadlineSeconds\": true}")]
    [InlineData("{\"gspGroup\": \"_A\", \"deadlineSeconds\": [5]}")]
    [InlineData("{\"gspGroup\": \"_A\", \"a.b\": 1}")]
    [InlineData("{\"gspGroup\": \"_A\", \"a'b\": 1}")]
    [InlineData("{\"gspGroup\": \"_A\", \"\": 1}")]
    [InlineData("{\"$type\": \"x\", \"gspGroup\": \"_A\"}")]
    [InlineData("{\"$id\": \"1\", \"gspGroup\": \"_A\"}")]
    [InlineData("{\"$ref\": \"1\"}")]
    [InlineData("{\"gsp_group\": \"_A\"}")]
    [InlineData("{\"mpans\": [\"1300000000007\", 1300000000007]}")]
    [InlineData("{\"mpans\": [\"1300000000007\"], \"mpans\": [\"1300000000007\"]}")]
    [InlineData("{\"mpans\": [\"1300000000007\"], \"MPANS\": [\"1300000000007\"]}")]
    [InlineData("{\"gspGroup\": \"_A\", \"gspGroup\": null}")]
    public async Task A_body_that_is_not_a_request_gets_a_400_problem(string json)
    {
        var (status, type, body) = await SendAsync(HttpMethod.Post, Aggregate, Bearer, json);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("application/problem+json", type);
        using var problem = JsonDocument.Parse(body);
        Assert.False(string.IsNullOrEmpty(problem.RootElement.GetProperty("detail").GetString()));
    }

    [Fact]
    public async Task Deeply_nested_json_gets_a_400_problem()
    {
        foreach (var json in new[] { new string('[', 100_000), $$"""{"mpans": {{new string('[', 1000)}}{{new string(']', 1000)}}}""", string.Concat(Enumerable.Repeat("{\"a\":", 1000)) + "1" + new string('}', 1000) })
        {
            var (status, type, _) = await SendAsync(HttpMethod.Post, Aggregate, Bearer, json);

            Assert.Equal((HttpStatusCode.BadRequest, "application/problem+json"), (status, type));
        }
    }

    [Theory]
    [InlineData(null, HttpStatusCode.UnsupportedMediaType)]
    [InlineData("text/plain", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("garbage", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("multipart/form-data; boundary=x", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("application/json, text/plain", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("application/xml", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("APPLICATION/JSON", HttpStatusCode.OK)]
    [InlineData("application/json; charset=utf-8", HttpStatusCode.OK)]
    [InlineData("application/problem+json", HttpStatusCode.OK)]
    public async Task A_body_declared_as_something_other_than_json_gets_a_415_problem(string? contentType, HttpStatusCode expected)
    {
        var (status, type, body) = await SendAsync(HttpMethod.Post, Aggregate, Bearer, $$"""{"gspGroup": "{{Group}}", "deadlineSeconds": 5}""", contentType);

        Assert.Equal(expected, status);
        if (expected != HttpStatusCode.OK)
        {
            Assert.Equal("application/problem+json", type);
            using var problem = JsonDocument.Parse(body);
            Assert.Contains("application/json", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    public async Task A_request_without_an_api_key_gets_401_whatever_its_body_is_declared_as(string? contentType)
    {
        // Who is asking comes first: nothing about the endpoint is said to a caller without a key.
        var (status, type, body) = await SendAsync(HttpMethod.Post, Aggregate, null, $$"""{"gspGroup": "{{Group}}"}""", contentType);

        Assert.Equal((HttpStatusCode.Unauthorized, "application/problem+json"), (status, type));
        Assert.Contains("no Authorization header", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_in_utf16_declared_by_its_charset_gets_a_400_problem_not_a_500()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Aggregate) { Content = new StringContent($$"""{"gspGroup": "{{Group}}"}""", Encoding.Unicode, "application/json") };
        request.Headers.TryAddWithoutValidation("Authorization", Bearer);
        using var response = await fixture.Hub.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("{mpan}", HttpStatusCode.OK)]
    [InlineData(" {mpan} ", HttpStatusCode.OK)]
    [InlineData("{mpan2} {mpan11}", HttpStatusCode.OK)]
    [InlineData("{mpan2}\u00A0{mpan11}", HttpStatusCode.OK)]
    [InlineData("{mpan12}{wrongCheck}", HttpStatusCode.BadRequest)]
    [InlineData("{mpan12}", HttpStatusCode.BadRequest)]
    [InlineData("{mpan}0", HttpStatusCode.BadRequest)]
    [InlineData("00{mpan}", HttpStatusCode.BadRequest)]
    [InlineData("+{mpan}", HttpStatusCode.BadRequest)]
    [InlineData("-{mpan}", HttpStatusCode.BadRequest)]
    [InlineData("0x{mpan}", HttpStatusCode.BadRequest)]
    [InlineData("A{mpan1}", HttpStatusCode.BadRequest)]
    [InlineData("{fullwidth}", HttpStatusCode.BadRequest)]
    [InlineData("{arabic}", HttpStatusCode.BadRequest)]
    [InlineData("0000000000000", HttpStatusCode.BadRequest)]
    [InlineData("9900000000000", HttpStatusCode.BadRequest)]
    [InlineData("{mpan}\u0000", HttpStatusCode.BadRequest)]
    [InlineData("", HttpStatusCode.BadRequest)]
    public async Task An_mpan_is_read_as_13_ascii_digits_with_its_check_digit_whitespace_aside_in_a_list_and_in_a_path(string template, HttpStatusCode expected)
    {
        var mpan = Mpan;
        var text = template.Replace("{mpan}", mpan, StringComparison.Ordinal)
            .Replace("{mpan2}", mpan[..2], StringComparison.Ordinal)
            .Replace("{mpan11}", mpan[2..], StringComparison.Ordinal)
            .Replace("{mpan12}", mpan[..12], StringComparison.Ordinal)
            .Replace("{mpan1}", mpan[1..], StringComparison.Ordinal)
            .Replace("{wrongCheck}", ((mpan[12] - '0' + 1) % 10).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{fullwidth}", string.Concat(mpan.Select(c => (char)(c - '0' + '\uFF10'))), StringComparison.Ordinal)
            .Replace("{arabic}", string.Concat(mpan.Select(c => (char)(c - '0' + '\u0660'))), StringComparison.Ordinal);

        var (listStatus, listType, listBody) = await SendAsync(HttpMethod.Post, Aggregate, Bearer, JsonSerializer.Serialize(new { mpans = new[] { text }, deadlineSeconds = 5 }));
        Assert.Equal(expected, listStatus);
        if (expected == HttpStatusCode.OK)
        {
            using var answer = JsonDocument.Parse(listBody);
            Assert.Equal(1, answer.RootElement.GetProperty("answered").GetInt32());
        }
        else
        {
            Assert.Equal("application/problem+json", listType);
            using var problem = JsonDocument.Parse(listBody);
            Assert.Equal("mpans[0]", problem.RootElement.GetProperty("field").GetString());
        }

        if (text.Trim().Length > 0 && !text.Contains('\0', StringComparison.Ordinal))
        {
            var (readStatus, readType, readBody) = await SendAsync(HttpMethod.Get, $"{Aggregate}/{Uri.EscapeDataString(text)}?deadlineSeconds=5", Bearer);
            Assert.Equal(expected, readStatus);
            if (expected == HttpStatusCode.OK)
            {
                using var answer = JsonDocument.Parse(readBody);
                Assert.Equal(mpan, answer.RootElement.GetProperty("mpan").GetString());
            }
            else
            {
                Assert.Equal("application/problem+json", readType);
                using var problem = JsonDocument.Parse(readBody);
                Assert.Equal("mpan", problem.RootElement.GetProperty("field").GetString());
            }
        }
    }

    [Theory]
    [InlineData("/{mpan}%2F..", HttpStatusCode.BadRequest)]
    [InlineData("/..%2F..%2Fhealth", HttpStatusCode.BadRequest)]
    [InlineData("/%2E%2E", HttpStatusCode.NotFound)]
    [InlineData("/{mpan}%ED%A0%80", HttpStatusCode.BadRequest)]
    [InlineData("/%FF", HttpStatusCode.BadRequest)]
    [InlineData("/{mpan}/x", HttpStatusCode.NotFound)]
    [InlineData("//{mpan}", HttpStatusCode.NotFound)]
    [InlineData("/{mpan}?deadlineSeconds=", HttpStatusCode.BadRequest)]
    [InlineData("/{mpan}?deadlineSeconds", HttpStatusCode.BadRequest)]
    [InlineData("/{mpan}?deadlineSeconds=%20", HttpStatusCode.BadRequest)]
    [InlineData("/{mpan}?deadlineSeconds=1%20", HttpStatusCode.BadRequest)]
    [InlineData("/{mpan}?deadlineSeconds=%D9%A1", HttpStatusCode.BadRequest)]
    [InlineData("/{mpan}?deadlineSeconds=%ED%A0%80", HttpStatusCode.BadRequest)]
    [InlineData("/{mpan}?deadlineSeconds=-5", HttpStatusCode.BadRequest)]
    [InlineData("/{mpan}?deadlineSeconds=5.0", HttpStatusCode.BadRequest)]
    [InlineData("/{mpan}?deadlineSeconds=0x5", HttpStatusCode.BadRequest)]
    [InlineData("/{mpan}?deadlineSeconds=601", HttpStatusCode.BadRequest)]
    [InlineData("/{mpan}?deadlineSeconds=99999999999999999999", HttpStatusCode.BadRequest)]
    [InlineData("/{mpan}?deadlineSeconds=5&deadlineSeconds", HttpStatusCode.BadRequest)]
    [InlineData("/{mpan}?deadlineSeconds=600", HttpStatusCode.OK)]
    [InlineData("/{mpan}?deadlineseconds=5", HttpStatusCode.OK)]
    [InlineData("/{mpan}?deadline=5", HttpStatusCode.BadRequest)]
    [InlineData("/{mpan}?deadlineSeconds=5&x", HttpStatusCode.BadRequest)]
    public async Task An_odd_path_or_query_gets_a_problem_or_is_read_as_it_says(string suffix, HttpStatusCode expected)
    {
        var (status, type, _) = await SendAsync(HttpMethod.Get, Aggregate + suffix.Replace("{mpan}", Mpan, StringComparison.Ordinal), Bearer);

        Assert.Equal(expected, status);
        Assert.Equal(expected == HttpStatusCode.OK ? "application/json" : "application/problem+json", type);
    }

    [Theory]
    [InlineData("PUT", "")]
    [InlineData("DELETE", "")]
    [InlineData("PATCH", "")]
    [InlineData("OPTIONS", "")]
    [InlineData("TRACE", "")]
    [InlineData("FOO", "")]
    [InlineData("GET", "")]
    [InlineData("PUT", "/{mpan}")]
    [InlineData("DELETE", "/{mpan}")]
    [InlineData("POST", "/{mpan}")]
    [InlineData("OPTIONS", "/{mpan}")]
    public async Task A_method_an_endpoint_does_not_take_gets_a_405_problem(string method, string suffix)
    {
        var (status, type, _) = await SendAsync(new HttpMethod(method), Aggregate + suffix.Replace("{mpan}", Mpan, StringComparison.Ordinal), Bearer, "{}");

        Assert.Equal((HttpStatusCode.MethodNotAllowed, "application/problem+json"), (status, type));
    }

    [Theory]
    [InlineData("GET", HttpStatusCode.OK)]
    [InlineData("HEAD", HttpStatusCode.OK)]
    [InlineData("POST", HttpStatusCode.MethodNotAllowed)]
    [InlineData("PUT", HttpStatusCode.MethodNotAllowed)]
    [InlineData("DELETE", HttpStatusCode.MethodNotAllowed)]
    [InlineData("TRACE", HttpStatusCode.MethodNotAllowed)]
    public async Task Health_answers_get_and_head_and_refuses_other_methods(string method, HttpStatusCode expected)
    {
        var (status, type, _) = await SendAsync(new HttpMethod(method), "/health", null, method is "GET" or "HEAD" ? null : "{}");

        Assert.Equal(expected, status);
        Assert.Equal(expected == HttpStatusCode.OK ? "application/json" : "application/problem+json", type);
    }

    [Fact]
    public async Task A_body_over_kestrels_limit_gets_a_413_problem_and_100001_mpans_a_400()
    {
        // Declared too large: refused before a byte of it is read.
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(fixture.Hub.Http.BaseAddress!.Host, fixture.Hub.Http.BaseAddress.Port);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST {Aggregate} HTTP/1.1\r\nHost: x\r\nAuthorization: {Bearer}\r\nContent-Type: application/json\r\nContent-Length: 40000000\r\n\r\n{{"));
            using var reader = new StreamReader(stream, Encoding.ASCII);
            var statusLine = await reader.ReadLineAsync();
            Assert.StartsWith("HTTP/1.1 413", statusLine, StringComparison.Ordinal);
            string? line;
            var headers = new List<string>();
            while (!string.IsNullOrEmpty(line = await reader.ReadLineAsync()))
            {
                headers.Add(line);
            }
            Assert.Contains(headers, h => h.Equals("Content-Type: application/problem+json", StringComparison.OrdinalIgnoreCase));
        }

        var (status, type, body) = await SendAsync(HttpMethod.Post, Aggregate, Bearer, $$"""{"mpans": [{{string.Join(",", Enumerable.Repeat($"\"{Mpan}\"", SmartGrid.SmartGridEndpoints.MaxMpans + 1))}}]}""");
        Assert.Equal((HttpStatusCode.BadRequest, "application/problem+json"), (status, type));
        Assert.Contains("not 100,001", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_aggregate_with_a_query_parameter_is_refused_naming_it_not_carried_out_without_it()
    {
        // deadlineSeconds goes in the body here: in the query it would be ignored, and the read wait 30 s, not 5.
        var (status, type, body) = await SendAsync(HttpMethod.Post, $"{Aggregate}?deadlineSeconds=5", Bearer, $$"""{"mpans": ["{{Mpan}}"]}""");

        Assert.Equal((HttpStatusCode.BadRequest, "application/problem+json"), (status, type));
        using var problem = JsonDocument.Parse(body);
        Assert.Equal("deadlineSeconds", problem.RootElement.GetProperty("field").GetString());
        Assert.Contains("not a query parameter of this request (its fields go in the JSON body: gspGroup, mpans, deadlineSeconds)", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_request_whose_body_breaks_off_or_is_too_large_is_logged_as_far_as_it_came()
    {
        var before = (await fixture.Hub.Store.MessageLog.ReadHeadAsync())?.Sequence ?? 0;
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(fixture.Hub.Http.BaseAddress!.Host, fixture.Hub.Http.BaseAddress.Port);
            await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes($"POST {Aggregate} HTTP/1.1\r\nHost: x\r\nAuthorization: {Bearer}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{\"gspGroup\": \"_A\""));
            // Gone, as a rule, while the hub reads the body (the tests below force the client to go before that): it is
            // logged the same whenever the client went.
            await Task.Delay(200);
        }
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(fixture.Hub.Http.BaseAddress!.Host, fixture.Hub.Http.BaseAddress.Port);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST {Aggregate} HTTP/1.1\r\nHost: x\r\nAuthorization: {Bearer}\r\nContent-Type: application/json\r\nContent-Length: 40000000\r\n\r\n{{"));
            using var reader = new StreamReader(stream, Encoding.ASCII);
            Assert.StartsWith("HTTP/1.1 413", await reader.ReadLineAsync(), StringComparison.Ordinal);
        }

        static string Text(MessageLogEntry e) => Encoding.UTF8.GetString(e.Record.Payload.Span);
        // The two requests as far as they came, found by their whole text among the entries since: logged once each.
        string[] expected = [$"POST {Aggregate}\n\n{{\"gspGroup\": \"_A\"", $"POST {Aggregate}\n\n"];
        var logged = new List<MessageLogEntry>();
        for (var waited = TimeSpan.Zero; waited < TimeSpan.FromSeconds(30) && logged.Count < expected.Length; waited += TimeSpan.FromMilliseconds(100))
        {
            logged.Clear();
            await foreach (var entry in fixture.Hub.Store.MessageLog.ReadAsync(before + 1))
            {
                if (expected.Contains(Text(entry)))
                {
                    logged.Add(entry);
                }
            }
            await Task.Delay(100);
        }
        Assert.Equal(expected.Order(StringComparer.Ordinal), logged.Select(Text).Order(StringComparer.Ordinal));
        Assert.All(logged, e => Assert.Equal((MessageDirection.Inbound, TestHub.NetworkOperator), (e.Record.Direction, e.Record.User)));
        Assert.Equal("Failed: the body broke off", Assert.Single(logged, e => Text(e) == expected[0]).Record.Outcome);
        Assert.Equal("Failed: BadHttpRequestException", Assert.Single(logged, e => Text(e) == expected[1]).Record.Outcome);
    }

    [Fact]
    public async Task A_request_whose_client_goes_away_before_it_is_handled_is_logged_once_as_received()
    {
        // A deadline no other test uses marks this request in the shared hub's log.
        var json = $$"""{"gspGroup": "{{Group}}", "deadlineSeconds": 41}""";

        var logged = await GoneBeforeHandledAsync(json, Encoding.UTF8.GetByteCount(json));

        var request = Assert.Single(logged);
        Assert.Equal((MessageDirection.Inbound, TestHub.NetworkOperator, "Failed: the client went away"), (request.Record.Direction, request.Record.User, request.Record.Outcome));
        Assert.Equal($"POST {Aggregate}\n\n{json}", Encoding.UTF8.GetString(request.Record.Payload.Span));
        Assert.True((await MessageLogChain.VerifyAsync(fixture.Hub.Store.MessageLog)).IsIntact);
    }

    [Fact]
    public async Task A_request_whose_client_goes_away_before_its_body_is_read_is_logged_once_as_far_as_it_came()
    {
        // A deadline no other test uses marks this request in the shared hub's log.
        const string Start = "{\"deadlineSeconds\": 43, \"gspGroup\": \"_A\"";

        var logged = await GoneBeforeHandledAsync(Start, contentLength: 100_000);

        var request = Assert.Single(logged);
        Assert.Equal((MessageDirection.Inbound, TestHub.NetworkOperator, "Failed: the body broke off"), (request.Record.Direction, request.Record.User, request.Record.Outcome));
        Assert.Equal($"POST {Aggregate}\n\n{Start}", Encoding.UTF8.GetString(request.Record.Payload.Span));
    }

    /// <summary>
    /// Sends the aggregate request with <paramref name="body"/> under a Content-Length of <paramref name="contentLength"/>,
    /// goes away once it has reached the hub, before the hub handles it, and gives what the message log then holds of it.
    /// </summary>
    private async Task<List<MessageLogEntry>> GoneBeforeHandledAsync(string body, int contentLength)
    {
        var tag = Guid.NewGuid().ToString("N");
        var held = fixture.Held(tag);
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(fixture.Hub.Http.BaseAddress!.Host, fixture.Hub.Http.BaseAddress.Port);
            await client.GetStream().WriteAsync(Encoding.UTF8.GetBytes($"POST {Aggregate} HTTP/1.1\r\nHost: x\r\nAuthorization: {Bearer}\r\n{SmartGridProbeHub.HoldHeader}: {tag}\r\nContent-Type: application/json\r\nContent-Length: {contentLength}\r\n\r\n{body}"));
            await held.Arrived.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
        await held.Handled.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(held.GoneFirst);

        var logged = new List<MessageLogEntry>();
        await foreach (var entry in fixture.Hub.Store.MessageLog.ReadAsync())
        {
            if (entry.Record.Correlation == $"smart-grid {held.Trace}" || Encoding.UTF8.GetString(entry.Record.Payload.Span).Contains(body, StringComparison.Ordinal))
            {
                logged.Add(entry);
            }
        }
        return logged;
    }

    [Fact]
    public async Task Many_identical_requests_at_once_are_each_answered_alike_and_each_logged()
    {
        const int Count = 30;
        // A deadline no other test uses marks these requests in the shared hub's log.
        var json = $$"""{"gspGroup": "{{Group}}", "deadlineSeconds": 37}""";

        var answers = await Task.WhenAll(Enumerable.Range(0, Count).Select(_ => SendAsync(HttpMethod.Post, Aggregate, Bearer, json)));
        var reads = await Task.WhenAll(Enumerable.Range(0, Count).Select(_ => SendAsync(HttpMethod.Get, $"{Aggregate}/{Mpan}?deadlineSeconds=36", Bearer)));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        Assert.All(reads, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        var asked = answers.Select(a => { using var d = JsonDocument.Parse(a.Body); return (d.RootElement.GetProperty("metersAsked").GetInt32(), d.RootElement.GetProperty("answered").GetInt32()); }).Distinct().ToList();
        Assert.Single(asked);
        Assert.Equal(asked[0].Item1, asked[0].Item2);

        var entries = new List<MessageLogEntry>();
        await foreach (var entry in fixture.Hub.Store.MessageLog.ReadAsync())
        {
            entries.Add(entry);
        }
        static string Text(MessageLogEntry e) => Encoding.UTF8.GetString(e.Record.Payload.Span);
        var requests = entries.Where(e => e.Record.Direction == MessageDirection.Inbound && (Text(e).Contains("\"deadlineSeconds\": 37", StringComparison.Ordinal) || Text(e).Contains("deadlineSeconds=36", StringComparison.Ordinal))).ToList();
        Assert.Equal(2 * Count, requests.Count);
        Assert.Equal(2 * Count, requests.Select(r => r.Record.Correlation).Distinct().Count());
        Assert.All(requests, r => Assert.Single(entries, e => e.Record.Direction == MessageDirection.Outbound && e.Record.Correlation == r.Record.Correlation && e.Record.Outcome == "200"));
        Assert.True((await MessageLogChain.VerifyAsync(fixture.Hub.Store.MessageLog)).IsIntact);
    }

    private async Task<(HttpStatusCode Status, string Type, string Body)> SendAsync(HttpMethod method, string path, string? authorization, string? body = null, string? contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }
        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            if (contentType is not null)
            {
                // Unvalidated: a test may declare what a client should not.
                request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
        }
        using var response = await fixture.Hub.Http.SendAsync(request);
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType ?? "", await response.Content.ReadAsStringAsync());
    }
}

/// <summary>
/// The hub's receiving end of device alerts from the WAN: a real alert cut short at every length, with a bit flipped in
/// every byte, and bytes that are no frame at all. None may throw (one alert that throws is lost to the log only); each
/// is refused into the message log, and none altered is read as an alert.
/// </summary>
public sealed class DeviceAlertReceiverAdversarialTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private TestHub hub = null!;

    public async Task InitializeAsync()
    {
        hub = await TestHub.StartAsync();
        await hub.Store.Inventory.UpdateDeviceAsync(TestHub.Meter, d => d with { CommsHub = TestHub.CommsHub, Mpan = hub.World.Wan.Fleet[0].Mpan }, OpenDcc.Core.Inventory.InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant()));
    }

    public async Task DisposeAsync() => await hub.DisposeAsync();

    private sealed class Capture(OpenDcc.Core.Alerts.IDeviceAlertSink inner) : OpenDcc.Core.Alerts.IDeviceAlertSink
    {
        public List<(Eui64 Device, byte[] Message)> Alerts { get; } = [];

        public Task PowerLostAsync(Eui64 commsHub, Instant since, CancellationToken cancellationToken = default) => inner.PowerLostAsync(commsHub, since, cancellationToken);

        public Task ReceiveAsync(Eui64 device, byte[] message, CancellationToken cancellationToken = default)
        {
            lock (Alerts)
            {
                Alerts.Add((device, message));
            }
            return inner.ReceiveAsync(device, message, cancellationToken);
        }
    }

    [Fact]
    public async Task An_altered_or_truncated_alert_is_refused_into_the_message_log_and_never_read_as_an_alert()
    {
        var sink = hub.Services.GetRequiredService<OpenDcc.Core.Alerts.IDeviceAlertSink>();
        var capture = new Capture(sink);
        hub.World.Wan.Attach(capture);
        var now = SystemClock.Instance.GetCurrentInstant();
        await hub.World.Wan.PowerOutageAsync(TestHub.Meter, now - Duration.FromSeconds(20), now - Duration.FromSeconds(10));
        var (device, frame) = Assert.Single(capture.Alerts, a => a.Device == TestHub.Meter);
        output.WriteLine($"alert frame: {frame.Length} bytes");

        var altered = new List<byte[]> { Array.Empty<byte>(), new byte[1], new byte[70_000], Encoding.UTF8.GetBytes("not a frame") };
        for (var length = 1; length < frame.Length; length++)
        {
            altered.Add(frame[..length]);
        }
        for (var i = 0; i < frame.Length; i++)
        {
            foreach (var bit in (byte[])[0x01, 0x80])
            {
                var flipped = (byte[])frame.Clone();
                flipped[i] ^= bit;
                altered.Add(flipped);
            }
        }
        altered.Add([.. frame, 0]);
        var random = new Random(7);
        for (var i = 0; i < 50; i++)
        {
            var bytes = new byte[random.Next(1, 400)];
            random.NextBytes(bytes);
            altered.Add(bytes);
        }

        var before = await CountAsync();
        foreach (var message in altered)
        {
            await sink.ReceiveAsync(device, message);
        }
        await sink.ReceiveAsync(TestHub.UnknownMeter, frame);

        var outcomes = new List<string>();
        var skip = before;
        await foreach (var entry in hub.Store.MessageLog.ReadAsync())
        {
            if (skip-- > 0)
            {
                continue;
            }
            outcomes.Add(entry.Record.Outcome);
        }
        foreach (var group in outcomes.GroupBy(o => o.Split(':')[0]))
        {
            output.WriteLine($"{group.Key}: {group.Count()} (e.g. {group.First()})");
        }
        Assert.Equal(altered.Count + 1, outcomes.Count(o => o.StartsWith("AlertRefused:", StringComparison.Ordinal)));
        Assert.True((await MessageLogChain.VerifyAsync(hub.Store.MessageLog)).IsIntact);
    }

    private async Task<int> CountAsync()
    {
        var count = 0;
        await foreach (var _ in hub.Store.MessageLog.ReadAsync())
        {
            count++;
        }
        return count;
    }
}

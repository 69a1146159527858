using OpenDcc.Core.Identifiers;

namespace OpenDcc.Hub.Grains;

// How Core's identifiers cross a grain call: as their numbers, not as text to format and parse again on each side
// (Core knows nothing of Orleans; these surrogates are Orleans' way to carry types it does not own).

[GenerateSerializer]
public struct Eui64Surrogate
{
    [Id(0)]
    public ulong Value;
}

[RegisterConverter]
public sealed class Eui64SurrogateConverter : IConverter<Eui64, Eui64Surrogate>
{
    public Eui64 ConvertFromSurrogate(in Eui64Surrogate surrogate) => new(surrogate.Value);

    public Eui64Surrogate ConvertToSurrogate(in Eui64 value) => new() { Value = value.Value };
}

[GenerateSerializer]
public struct RequestIdSurrogate
{
    [Id(0)]
    public ulong Originator;

    [Id(1)]
    public ulong Target;

    [Id(2)]
    public ulong Counter;
}

[RegisterConverter]
public sealed class RequestIdSurrogateConverter : IConverter<RequestId, RequestIdSurrogate>
{
    public RequestId ConvertFromSurrogate(in RequestIdSurrogate surrogate) => new(new Eui64(surrogate.Originator), new Eui64(surrogate.Target), surrogate.Counter);

    public RequestIdSurrogate ConvertToSurrogate(in RequestId value) => new() { Originator = value.Originator.Value, Target = value.Target.Value, Counter = value.Counter };
}

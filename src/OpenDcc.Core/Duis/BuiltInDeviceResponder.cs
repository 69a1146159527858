using NodaTime;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Delivery;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;

namespace OpenDcc.Core.Duis;

/// <summary>
/// Answers accepted device requests on the devices' behalf until the device side (inventory, translation adapters,
/// WAN and simulated devices) replaces it: the asynchronous I0 response, signed by the DSP, goes to the user's
/// response URL through delivery, with its retries and failed queue. Its GBCS payload is a plain-text echo of the
/// request that no real device would send, so nobody mistakes it for meter data.
/// </summary>
public sealed class BuiltInDeviceResponder(DuisMessageSecurity security, ResponseDispatcher dispatcher, MessageLogWriter log, IClock clock) : IDeviceRequestHandler
{
    public async Task SubmitAsync(DuisRequest request, DccUser user, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(user);
        var payload = System.Text.Encoding.UTF8.GetBytes($"OPENDCC-BUILT-IN-RESPONDER 1\n{request.RequestId}\n{request.Variant.Id} {request.Variant.Name}\n");
        var response = DuisResponse.For(request, ResponseCode.Success.Code, clock.GetCurrentInstant(), new ResponsePayload.GbcsPayload(payload));
        var signed = security.Sign(response);
        if (user.ResponseUrl is null)
        {
            await log.AppendAsync([new MessageLogRecord(clock.GetCurrentInstant(), MessageDirection.Outbound, user.Id, request.RequestId.ToString(), "Undeliverable: the user has no response URL", signed)], cancellationToken);
            return;
        }
        await dispatcher.EnqueueAsync(user.Id, user.ResponseUrl, request.RequestId.ToString(), signed, cancellationToken);
    }
}

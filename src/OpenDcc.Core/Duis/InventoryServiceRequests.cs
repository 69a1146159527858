using System.Globalization;
using System.Xml.Linq;
using NodaTime;
using OpenDcc.Core.AccessControl;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Parties;

namespace OpenDcc.Core.Duis;

/// <summary>
/// The non-device service requests that read and change the smart metering inventory: 12.2 Device Pre-notification,
/// 8.2 Read Inventory, 8.3 Decommission Device, 8.4 Update Inventory and 8.14.1–8.14.4 Communications Hub Status
/// Update. Each answers at once with its DUIS response. What a request changes is not written here: it comes back as an
/// <see cref="InventoryWrite"/>, made in the transaction that logs the request and its answer, so that no change is
/// stored unlogged and none logged is not stored; every status it sets goes into the device's SMI status history with
/// the SRV and the user.
/// </summary>
/// <remarks>
/// A device named in the body must be in the inventory (E19), of a type the SRV applies to (E11: comms hubs change
/// status only through 8.14.x and 8.4's <c>UpdateDeviceStatusCH</c>, other devices through 8.3 and
/// <c>UpdateDeviceStatusExceptCH</c>), and in a status the <see cref="SmiStatusMatrix"/> allows for the SRV (E5).
/// These are DUIS's generic codes; which of the SRV-specific codes (E0803xx, E0804xx, E0814xx) the DCC would use is
/// not sourced.
/// </remarks>
public sealed class InventoryServiceRequests(
    IInventoryStore inventory,
    IApprovedModelStore approvedModels,
    IClock clock,
    GatewayResponseCodes codes,
    SmiStatusMatrix matrix)
{
    /// <summary>The most devices one DSPInventory carries (the DUIS XSD's <c>maxOccurs</c>).</summary>
    public const int MaxInventoryDevices = 17;

    private static readonly DateTimeZone London = DateTimeZoneProviders.Tzdb["Europe/London"];
    private static readonly XNamespace Sr = DuisNamespaces.Sr;

    /// <summary>Whether this handles the SRV.</summary>
    public static bool Handles(string serviceReferenceVariant) =>
        serviceReferenceVariant is "12.2" or "8.2" or "8.3" or "8.4" or "8.14.1" or "8.14.2" or "8.14.3" or "8.14.4";

    /// <summary>The request's answer, and what it changes in the inventory once logged (null: nothing).</summary>
    public async Task<(DuisResponse Response, string Outcome, InventoryWrite? Changes)> HandleAsync(DuisRequest request, DccUser user, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(user);
        var change = new InventoryChange(clock.GetCurrentInstant(), request.Variant.Id, user.Id);
        try
        {
            CheckElements(request.Body, BodyElements(request.Variant.Id));
            return request.Variant.Id switch
            {
                "12.2" => await PreNotifyAsync(request, change, cancellationToken),
                "8.2" => await ReadAsync(request, cancellationToken),
                "8.3" => await DecommissionAsync(request, change, cancellationToken),
                "8.4" => await UpdateAsync(request, change, cancellationToken),
                "8.14.1" => await CommsHubStatusAsync(request, SmiStatus.Commissioned, change, cancellationToken),
                "8.14.2" => await CommsHubStatusAsync(request, SmiStatus.InstalledNotCommissioned, change, cancellationToken),
                "8.14.3" or "8.14.4" => await CommsHubStatusAsync(request, SmiStatus.Withdrawn, change, cancellationToken),
                _ => throw new ArgumentException($"{request.Variant.Id} is not an inventory service request", nameof(request)),
            };
        }
        catch (RefusedException refused)
        {
            return Respond(request, refused.Code, $"{refused.Code} {refused.Message}");
        }
    }

    /// <summary>
    /// The elements each SRV's body may hold (the DUIS XSD's DevicePrenotification, ReadInventory, DecommissionDevice,
    /// UpdateInventory and the four 8.14.x types), anything else being a body that does not match its SRV: one a
    /// request misspells or adds would otherwise be ignored, and the request carried out without it.
    /// </summary>
    private static string[] BodyElements(string srv) => srv switch
    {
        "12.2" => ["DeviceID", "DeviceManufacturer", "DeviceModel", "DeviceType", "SMETSCHTSVersion", "FirmwareVersion", "ESMEVariant", "AssociatedGPFDeviceID"],
        "8.2" => ["UPRN", "DeviceID", "MPxN", "PropertyFilter"],
        "8.3" => ["DeviceID"],
        "8.4" => ["DeviceID", "UpdateDeviceStatusExceptCH", "UpdateDeviceStatusCH", "UpdateDeviceDetails", "DeleteDevice", "UpdateMPxN"],
        _ => ["DeviceID", .. CommsHubFields[srv].Select(f => f.Name)],
    };

    /// <summary>The elements the XSD's complex types within these bodies hold; every other element of a body holds text only.</summary>
    private static readonly Dictionary<string, string[]> InnerElements = new()
    {
        ["PropertyFilter"] = ["PostCode", "AddressIdentifier"],
        ["UpdateDeviceDetails"] = ["DeviceManufacturer", "DeviceModel", "SMETSCHTSVersion", "FirmwareVersion", "ESMEVariant"],
        ["UpdateMPxN"] = ["ImportMPxN", "SecondaryImportMPAN", "ExportMPAN"],
        ["DeleteDevice"] = [],
    };

    /// <summary>E41 naming the first element of <paramref name="parent"/>, at any depth, that is not one <paramref name="allowed"/> there.</summary>
    private void CheckElements(XElement parent, string[] allowed)
    {
        foreach (var element in parent.Elements())
        {
            var name = element.Name.LocalName;
            if (element.Name.Namespace != Sr || !allowed.Contains(name, StringComparer.Ordinal))
            {
                var named = element.Name.Namespace == Sr ? $"sr:{Excerpt.Of(name)}" : $"{{{Excerpt.Of(element.Name.NamespaceName)}}}{Excerpt.Of(name)}";
                throw Invalid($"sr:{parent.Name.LocalName} holds {named}, which it does not take");
            }
            CheckElements(element, InnerElements.TryGetValue(name, out var inner) ? inner : []);
        }
    }

    /// <summary>12.2: the device joins the inventory as Pending with what the notification says of it, if its model is approved.</summary>
    private async Task<(DuisResponse, string, InventoryWrite?)> PreNotifyAsync(DuisRequest request, InventoryChange change, CancellationToken cancellationToken)
    {
        var id = RequiredDevice(request.Body, "DeviceID");
        // By name only: Enum.TryParse also reads a number ("0") and a list ("ESME, GSME") as a type.
        var type = Text(request.Body, "DeviceType") is { } typeText && Enum.GetNames<DeviceType>().Contains(typeText.Trim(), StringComparer.Ordinal)
            ? Enum.Parse<DeviceType>(typeText.Trim())
            : throw Invalid($"12.2 needs a DeviceType, one of {string.Join(", ", Enum.GetNames<DeviceType>())}");
        var model = new ApprovedModel(Bounded(request.Body, "DeviceManufacturer", 30) ?? throw Invalid("12.2 needs a DeviceManufacturer"), Bounded(request.Body, "DeviceModel", 30) ?? throw Invalid("12.2 needs a DeviceModel"));
        if (!await approvedModels.IsApprovedAsync(model, cancellationToken))
        {
            throw new RefusedException(codes.ModelNotApproved, $"device model {model} is not on the approved list");
        }
        var gpf = OptionalDevice(request.Body, "AssociatedGPFDeviceID");
        var device = new Device(id, type, SmiStatus.Pending)
        {
            Manufacturer = model.Manufacturer,
            Model = model.Model,
            SmetsChtsVersion = Bounded(request.Body, "SMETSCHTSVersion", 20),
            FirmwareVersion = Bounded(request.Body, "FirmwareVersion", 8),
        };
        // A gas meter is reached through its comms hub's gas proxy: the pair is recorded, the GPF being in the inventory.
        // The body is checked whole before the device is looked for: a notice repeated is answered as it was the first time.
        Device? proxyFunction = null;
        if (gpf is { } proxy)
        {
            if (type != DeviceType.GSME)
            {
                throw Invalid($"AssociatedGPFDeviceID is for a gas meter (GSME), not {type.WithArticle()}");
            }
            proxyFunction = await StoredAsync(proxy, cancellationToken) ?? throw new RefusedException(ResponseCode.DeviceDoesNotExist.Code, $"AssociatedGPFDeviceID {proxy} is not in the inventory");
            if (proxyFunction.Type != DeviceType.GPF)
            {
                throw new RefusedException(ResponseCode.DeviceTypeIncompatible.Code, $"AssociatedGPFDeviceID {proxy} is {proxyFunction.Type.WithArticle()}, not a gas proxy function (GPF)");
            }
        }
        if (await StoredAsync(id, cancellationToken) is { } known)
        {
            // A device does not change its type: a notice that says it did is wrong about the device, not late.
            if (known.Type != type)
            {
                throw new RefusedException(ResponseCode.DeviceTypeIncompatible.Code, $"device {id} is in the inventory as {known.Type.WithArticle()}, not {type.WithArticle()}");
            }
            if (proxyFunction is not null)
            {
                return await PairKnownGasMeterAsync(request, change, known, proxyFunction, cancellationToken);
            }
            return Respond(request, ResponseCode.Success.Code, $"I0 device {id} was pre-notified already");
        }
        var write = new InventoryWrite(change, new DeviceWrite(id, null, device));
        if (proxyFunction is not null)
        {
            write = write with { Devices = [.. write.Devices, DeviceWrite.Unchanged(proxyFunction)], Joins = [(id, proxyFunction.Id)] };
        }
        return Respond(request, ResponseCode.Success.Code, $"I0 device {id} pre-notified as {model}", write);
    }

    /// <summary>
    /// 12.2 of a gas meter the inventory holds, naming its GPF: the device is left as it is, but the pair is recorded as a
    /// first notice's is (a first notice without AssociatedGPFDeviceID, or a join removed since, left the meter with no
    /// GPF to be reached through). Paired with that GPF already: nothing to do. Paired with another: refused (E41), a gas
    /// meter being reached through one GPF; 8.8 unjoins it first.
    /// </summary>
    private async Task<(DuisResponse, string, InventoryWrite?)> PairKnownGasMeterAsync(DuisRequest request, InventoryChange change, Device meter, Device gpf, CancellationToken cancellationToken)
    {
        var joined = await inventory.FindJoinedAsync(meter.Id, cancellationToken);
        if (joined.Contains(gpf.Id))
        {
            return Respond(request, ResponseCode.Success.Code, $"I0 device {meter.Id} was pre-notified already, paired with GPF {gpf.Id}");
        }
        if ((await inventory.FindDevicesAsync(joined, cancellationToken)).FirstOrDefault(d => d.Type == DeviceType.GPF) is { } other)
        {
            throw Invalid($"gas meter {meter.Id} is paired with GPF {other.Id}, not {gpf.Id}");
        }
        // Both as found when logged: either deleted or changed meanwhile has the request checked again.
        var write = new InventoryWrite(change, [DeviceWrite.Unchanged(meter), DeviceWrite.Unchanged(gpf)], [(meter.Id, gpf.Id)]);
        return Respond(request, ResponseCode.Success.Code, $"I0 device {meter.Id} was pre-notified already; paired with GPF {gpf.Id} now", write);
    }

    /// <summary>The device as stored now, past the gateway's cache: what a change is checked against.</summary>
    private async Task<Device?> StoredAsync(Eui64 id, CancellationToken cancellationToken) =>
        (await inventory.FindDevicesAsync([id], cancellationToken)).SingleOrDefault();

    /// <summary>A body may hold at most one of the elements of the XSD's choice: two would have one of them ignored.</summary>
    private void OneOf(XElement body, string srv, params string[] choice)
    {
        if (choice.Where(name => Single(body, name) is not null).ToList() is { Count: > 1 } given)
        {
            throw Invalid($"{srv} takes one of {string.Join(", ", choice)}, not {string.Join(" and ", given)}");
        }
    }

    /// <summary>8.2: the devices a DeviceID, a UPRN, an MPxN or a post code with an address identifier name.</summary>
    private async Task<(DuisResponse, string, InventoryWrite?)> ReadAsync(DuisRequest request, CancellationToken cancellationToken)
    {
        var body = request.Body;
        OneOf(body, "8.2", "DeviceID", "UPRN", "MPxN", "PropertyFilter");
        IReadOnlyList<Device> devices;
        string selector;
        if (Single(body, "DeviceID") is not null)
        {
            var id = RequiredDevice(body, "DeviceID");
            selector = $"device {id}";
            devices = await inventory.FindDeviceAsync(id, cancellationToken) is { } device ? [device] : [];
        }
        else if (Text(body, "UPRN") is { } uprnText)
        {
            var uprn = Uprn.TryParse(uprnText, out var u, out var error) ? u : throw Invalid(error);
            selector = $"UPRN {uprn}";
            devices = await inventory.FindDevicesAtSiteAsync(uprn, cancellationToken);
        }
        else if (Text(body, "MPxN") is { } mpxn)
        {
            selector = $"MPxN {mpxn}";
            devices = await AtMeterPointAsync(mpxn, cancellationToken);
        }
        else if (Single(body, "PropertyFilter") is { } filter)
        {
            var postCode = Text(filter, "PostCode") ?? throw Invalid("PropertyFilter needs a PostCode");
            var address = Text(filter, "AddressIdentifier") ?? throw Invalid("PropertyFilter needs an AddressIdentifier");
            string normalised;
            try
            {
                normalised = Site.NormalisePostCode(postCode)!;
            }
            catch (ArgumentException e)
            {
                throw Invalid(e.Message);
            }
            selector = $"property {normalised}, {address}";
            var found = new List<Device>();
            foreach (var site in await inventory.FindSitesByAddressAsync(normalised, address, cancellationToken))
            {
                found.AddRange(await inventory.FindDevicesAtSiteAsync(site.Uprn, cancellationToken));
            }
            devices = found;
        }
        else
        {
            throw Invalid("8.2 needs a DeviceID, UPRN, MPxN or PropertyFilter");
        }
        if (devices.Count == 0)
        {
            return Respond(request, codes.InventoryNotFound, $"{codes.InventoryNotFound} no device in the inventory for {selector}");
        }
        var answer = new List<InventoryDevice>();
        foreach (var device in devices.Take(MaxInventoryDevices))
        {
            answer.Add(await DescribeAsync(device, cancellationToken));
        }
        var more = devices.Count > MaxInventoryDevices ? $" (the first {MaxInventoryDevices} of {devices.Count})" : "";
        return (DuisResponse.For(request, ResponseCode.Success.Code, clock.GetCurrentInstant(), new ResponsePayload.Inventory(answer)), $"I0 DSPInventory: {answer.Count} {(answer.Count == 1 ? "device" : "devices")} for {selector}{more}", null);
    }

    /// <summary>The devices at the premises of the meter serving an MPAN (13 digits) or an MPRN: the site's, else the meter, its hub and what is joined to it.</summary>
    private async Task<IReadOnlyList<Device>> AtMeterPointAsync(string mpxn, CancellationToken cancellationToken)
    {
        var meters = await ServingAsync(mpxn, cancellationToken);
        var found = new SortedDictionary<Eui64, Device>();
        foreach (var meter in meters)
        {
            if (meter.Uprn is { } uprn)
            {
                foreach (var d in await inventory.FindDevicesAtSiteAsync(uprn, cancellationToken))
                {
                    found[d.Id] = d;
                }
            }
            found[meter.Id] = meter;
            var related = (await inventory.FindJoinedAsync(meter.Id, cancellationToken)).ToList();
            if (meter.CommsHub is { } hub)
            {
                related.Add(hub);
            }
            foreach (var d in await inventory.FindDevicesAsync(related, cancellationToken))
            {
                found[d.Id] = d;
            }
        }
        return [.. found.Values];
    }

    /// <summary>The meters serving an MPAN (13 digits) or an MPRN, those out of service too, in ID order (E41 for one that is neither).</summary>
    private async Task<IReadOnlyList<Device>> ServingAsync(string mpxn, CancellationToken cancellationToken)
    {
        if (mpxn.Trim().Length == 13)
        {
            return Mpan.TryParse(mpxn, out var mpan) ? await inventory.FindDevicesServingAsync([mpan], cancellationToken) : throw Invalid($"MPxN '{mpxn}' is not an MPAN core");
        }
        return Mprn.TryParse(mpxn, out var mprn) ? await inventory.FindDevicesServingAsync([mprn], cancellationToken) : throw Invalid($"MPxN '{mpxn}' is neither an MPAN core nor an MPRN");
    }

    private async Task<InventoryDevice> DescribeAsync(Device device, CancellationToken cancellationToken)
    {
        var commissioned = await inventory.FirstEnteredAsync(device.Id, SmiStatus.Commissioned, cancellationToken);
        var site = device.Uprn is { } uprn ? await inventory.FindSiteAsync(uprn, cancellationToken) : null;
        return new InventoryDevice(device.Id, device.Type.ToString(), device.Status.ToString(), device.Manufacturer ?? "Unknown", device.Model ?? "Unknown")
        {
            SmetsChtsVersion = device.SmetsChtsVersion,
            FirmwareVersion = device.FirmwareVersion,
            DateCommissioned = commissioned?.InZone(London).Date.ToString("uuuu-MM-dd", CultureInfo.InvariantCulture),
            ImportMpxn = device.Mpan?.ToString() ?? device.Mprn?.ToString(),
            SecondaryImportMpan = device.SecondaryImportMpan?.ToString(),
            ExportMpan = device.ExportMpan?.ToString(),
            Uprn = device.Uprn?.ToString(),
            PropertyFilter = site is { PostCode: { } postCode, AddressIdentifier: { } address } ? (postCode, address) : null,
            CspRegion = device.Region?.ToString(),
        };
    }

    /// <summary>8.3: the device is Decommissioned and unjoined from every device it was joined to.</summary>
    private async Task<(DuisResponse, string, InventoryWrite?)> DecommissionAsync(DuisRequest request, InventoryChange change, CancellationToken cancellationToken)
    {
        var id = RequiredDevice(request.Body, "DeviceID");
        var device = await ChangeAsync(request, id,
            d => d.Type is DeviceType.CHF or DeviceType.GPF ? "comms hubs leave service through 8.14.3 or 8.14.4" : null,
            d => d with { Status = SmiStatus.Decommissioned },
            cancellationToken);
        return Respond(request, ResponseCode.Success.Code, $"I0 device {id} decommissioned", new InventoryWrite(change, device with { Unjoin = true }));
    }

    /// <summary>8.4: a status, the device's details or its MPxN change, or a pending device is deleted.</summary>
    private async Task<(DuisResponse, string, InventoryWrite?)> UpdateAsync(DuisRequest request, InventoryChange change, CancellationToken cancellationToken)
    {
        var body = request.Body;
        var id = RequiredDevice(body, "DeviceID");
        OneOf(body, "8.4", "UpdateDeviceStatusExceptCH", "UpdateDeviceStatusCH", "UpdateDeviceDetails", "DeleteDevice", "UpdateMPxN");
        if (Single(body, "DeleteDevice") is not null)
        {
            var device = await StoredAsync(id, cancellationToken) ?? throw Unknown(id);
            CheckStatus(request, device);
            if (device.Status != SmiStatus.Pending)
            {
                throw new RefusedException(ResponseCode.DeviceStatusIncompatible.Code, $"device {id} is {device.Status}; only a Pending device may be deleted");
            }
            // A comms hub other devices still name would leave them naming one the inventory no longer holds.
            if ((await inventory.FindDevicesOnCommsHubAsync(id, cancellationToken)).FirstOrDefault(d => d.Id != id) is { } onHub)
            {
                throw Invalid($"{onHub.Type} {onHub.Id} names comms hub {id} as its own: a comms hub devices name may not be deleted");
            }
            return Respond(request, ResponseCode.Success.Code, $"I0 device {id} deleted from the inventory", new InventoryWrite(change, new DeviceWrite(id, device, null)));
        }
        if (Single(body, "UpdateDeviceDetails") is { } details)
        {
            var current = await StoredAsync(id, cancellationToken) ?? throw Unknown(id);
            var manufacturer = Bounded(details, "DeviceManufacturer", 30) ?? current.Manufacturer;
            var modelName = Bounded(details, "DeviceModel", 30) ?? current.Model;
            if ((Text(details, "DeviceManufacturer") is not null || Text(details, "DeviceModel") is not null)
                && (manufacturer is null || modelName is null || !await approvedModels.IsApprovedAsync(new ApprovedModel(manufacturer, modelName), cancellationToken)))
            {
                throw new RefusedException(codes.UpdatedModelNotApproved, $"device model {manufacturer ?? "(none)"}/{modelName ?? "(none)"} is not on the approved list");
            }
            var smets = Bounded(details, "SMETSCHTSVersion", 20);
            var firmware = Bounded(details, "FirmwareVersion", 8);
            var updated = await ChangeAsync(request, id, AnyType, d => d with
            {
                Manufacturer = manufacturer is null ? d.Manufacturer : manufacturer.ToUpperInvariant(),
                Model = modelName is null ? d.Model : modelName.ToUpperInvariant(),
                SmetsChtsVersion = smets ?? d.SmetsChtsVersion,
                FirmwareVersion = firmware ?? d.FirmwareVersion,
            }, cancellationToken);
            return Respond(request, ResponseCode.Success.Code, $"I0 device {id} details updated", new InventoryWrite(change, updated));
        }
        if (Single(body, "UpdateMPxN") is { } mpxn)
        {
            // One of three (the XSD's choice): the import MPAN or MPRN, or an ESME's secondary import or export MPAN.
            if (Text(mpxn, "ImportMPxN") is { } import)
            {
                var updated = await ChangeAsync(request, id,
                    d => d.Type is DeviceType.ESME or DeviceType.GSME ? null : "only meters serve an MPxN",
                    d => d.Type == DeviceType.ESME
                        ? d with
                        {
                            Mpan = !Mpan.TryParse(import, out var mpan, out var error) ? throw Invalid(error)
                                : mpan == d.SecondaryImportMpan || mpan == d.ExportMpan ? throw Invalid($"ImportMPxN {mpan} is already another of the meter's MPANs")
                                : mpan,
                        }
                        : d with { Mprn = Mprn.TryParse(import, out var mprn, out var gasError) ? mprn : throw Invalid(gasError) },
                    cancellationToken);
                return Respond(request, ResponseCode.Success.Code, $"I0 device {id} serves {import.Trim()}", new InventoryWrite(change, updated));
            }
            var (name, text) = Text(mpxn, "SecondaryImportMPAN") is { } secondary ? ("SecondaryImportMPAN", secondary)
                : Text(mpxn, "ExportMPAN") is { } export ? ("ExportMPAN", export)
                : throw Invalid("UpdateMPxN needs ImportMPxN, SecondaryImportMPAN or ExportMPAN");
            var core = Mpan.TryParse(text, out var parsed, out var fault) ? parsed : throw Invalid($"{name}: {fault}");
            var served = await ChangeAsync(request, id,
                d => d.Type == DeviceType.ESME ? null : $"only an ESME serves a {name}",
                d => d.Mpan == core || (name == "ExportMPAN" ? d.SecondaryImportMpan : d.ExportMpan) == core
                    ? throw Invalid($"{name} {core} is already another of the meter's MPANs")
                    : name == "ExportMPAN" ? d with { ExportMpan = core } : d with { SecondaryImportMpan = core },
                cancellationToken);
            return Respond(request, ResponseCode.Success.Code, $"I0 device {id} {name} {core}", new InventoryWrite(change, served));
        }
        var (element, commsHub) = Single(body, "UpdateDeviceStatusCH") is { } ch ? (ch, true)
            : Single(body, "UpdateDeviceStatusExceptCH") is { } other ? (other, false)
            : throw Invalid("8.4 needs UpdateDeviceStatusExceptCH, UpdateDeviceStatusCH, UpdateDeviceDetails, DeleteDevice or UpdateMPxN");
        var allowed = commsHub ? [SmiStatus.Commissioned, SmiStatus.Withdrawn, SmiStatus.InstalledNotCommissioned] : new[] { SmiStatus.Pending, SmiStatus.InstalledNotCommissioned };
        var status = SmiStatuses.TryParse(element.Value, out var s) && allowed.Contains(s) && element.Value.Trim() == s.ToString()
            ? s
            : throw Invalid($"{element.Name.LocalName} '{element.Value}' is not one of {string.Join(", ", allowed)}");
        var changed = await ChangeAsync(request, id,
            d => (d.Type == DeviceType.CHF) == commsHub ? null : $"{element.Name.LocalName} is for {(commsHub ? "comms hubs" : "devices other than comms hubs")}",
            d => d with { Status = status },
            cancellationToken);
        return Respond(request, ResponseCode.Success.Code, $"I0 device {id} is {status}", new InventoryWrite(change, changed));
    }

    /// <summary>
    /// 8.14.x: the comms hub is installed (Commissioned with SM WAN, InstalledNotCommissioned without) at the premises of
    /// the meter serving the MPxN given, or returned (Withdrawn, with its gas proxy function).
    /// </summary>
    private async Task<(DuisResponse, string, InventoryWrite?)> CommsHubStatusAsync(DuisRequest request, SmiStatus status, InventoryChange change, CancellationToken cancellationToken)
    {
        CheckCommsHubFields(request.Body, request.Variant.Id);
        var id = RequiredDevice(request.Body, "DeviceID");
        List<DeviceWrite> reliedOn = [];
        var hub = await ChangeAsync(request, id,
            d => d.Type == DeviceType.CHF ? null : $"{request.Variant.Id} is for comms hubs",
            d => d with { Status = status },
            cancellationToken);
        // An install (8.14.1, 8.14.2; MPxN is required there) puts the hub at the premises of the meter in service at the
        // MPxN, as the inventory has it: one no meter in service serves is a reference the inventory does not hold (E19).
        if (Text(request.Body, "MPxN") is { } mpxn)
        {
            var meter = (await ServingAsync(mpxn, cancellationToken)).FirstOrDefault(m => m.IsInService)
                ?? throw new RefusedException(ResponseCode.DeviceDoesNotExist.Code, $"MPxN {mpxn} is served by no meter in service in the inventory");
            hub = hub with { Becomes = hub.Becomes! with { Uprn = meter.Uprn ?? hub.Becomes.Uprn } };
            // Relied on as found: a meter moved meanwhile has the request checked again.
            reliedOn.Add(DeviceWrite.Unchanged(meter));
        }
        List<DeviceWrite> writes = [hub, .. reliedOn];
        if (status == SmiStatus.Withdrawn)
        {
            writes.AddRange((await inventory.FindDevicesOnCommsHubAsync(id, cancellationToken))
                .Where(d => d.Type == DeviceType.GPF && d.Status != SmiStatus.Withdrawn)
                .Select(gpf => new DeviceWrite(gpf.Id, gpf, gpf with { Status = SmiStatus.Withdrawn })));
        }
        return Respond(request, ResponseCode.Success.Code, $"I0 comms hub {id} is {status}", new InventoryWrite(change, writes, []));
    }

    /// <summary>
    /// The change to a device the body names, after checking that it exists (E19), that the SRV applies to its type (E11:
    /// <paramref name="wrongType"/> gives the reason it does not, or null), that its status suits the SRV (E5) and that
    /// it leaves no meter point with two meters in service (E41). It is made only if all is still so when the request is
    /// logged (<see cref="InventoryChangedException"/> otherwise, and the request is checked again).
    /// </summary>
    private async Task<DeviceWrite> ChangeAsync(DuisRequest request, Eui64 id, Func<Device, string?> wrongType, Func<Device, Device> update, CancellationToken cancellationToken)
    {
        var found = await StoredAsync(id, cancellationToken) ?? throw Unknown(id);
        if (wrongType(found) is { } reason)
        {
            throw new RefusedException(ResponseCode.DeviceTypeIncompatible.Code, $"device {id} is a {found.Type}; {reason}");
        }
        CheckStatus(request, found);
        var becomes = update(found);
        await RefuseSecondMeterAsync(found, becomes, cancellationToken);
        return new DeviceWrite(id, found, becomes);
    }

    /// <summary>What a field of an 8.14.x body takes (the DUIS XSD's types): one of the values listed, a boolean, a date and time, an EUI-64, or text of at most a length.</summary>
    private sealed record HubField(string Name, bool Required, string[]? Values = null, string? Kind = null, int MaxLength = 0);

    private static readonly string[] InstallTypes = ["New CHF Install", "Replacement CHF Install", "CHF Install - no SM WAN"];
    private static readonly string[] Locations = ["Outside Premises", "Indoors on external wall", "Deep indoors", "Basement or Cellar"];

    private static readonly HubField[] InstallFields =
    [
        new("CHFInstallType", true, InstallTypes), new("InstallDateTime", false, Kind: "dateTime"), new("UserRefID", false, MaxLength: 25),
        new("MPxN", true, MaxLength: 13), new("GISData", false, MaxLength: 25), new("AerialInstall", true, Kind: "boolean"),
        new("CHFLocation", true, Locations), new("AdditionalInformation", false, MaxLength: 200),
    ];

    /// <summary>The fields of each 8.14.x body besides DeviceID, as the DUIS XSD has them: OpenDcc uses only some, but takes none malformed.</summary>
    private static readonly Dictionary<string, HubField[]> CommsHubFields = new()
    {
        ["8.14.1"] = InstallFields,
        ["8.14.2"] =
        [
            .. InstallFields,
            new("PremiseType", true, ["Detached / Semi Detached", "Terraced", "Low Rise Apartment (MDU <= 5 floors)", "High Rise Apartment (MDU > 5 floors)"]),
            new("MetalObstructionCheck", true, Kind: "boolean"), new("ConnectivityObstructionCheck", true, Kind: "boolean"), new("SharedObstructionCheck", true, Kind: "boolean"),
        ],
        ["8.14.3"] =
        [
            new("CHFFaultReturnType", true, ["Fault identified prior to installation", "Fault identified post installation"]),
            new("UserRefDateTime", false, Kind: "dateTime"), new("UserRefID", false, MaxLength: 25), new("OtherDeviceID", true, Kind: "EUI-64"),
            new("IncidentReference", false, MaxLength: 15), new("CHFConnectionMethod", true, ["Hot-shoe", "Cradle", "ESME"]),
            new("CHFFaultReason", true, ["Damaged case", "Damaged Connector", "Illegal interference or missing seals", "Environmental conditions exceeded", "SM WAN Fault", "SMHAN Interface Fault", "LED Fault", "Aerial fault", "Manufacturing defect"]),
            new("AdditionalInformation", false, MaxLength: 200),
        ],
        ["8.14.4"] =
        [
            new("CHFNoFaultReturnType", true, ["No Fault Return (general)", "No Fault Return (non-dom opt out)", "No Fault Return (dual supplier HAN variant replacement)", "No Fault Return (SM WAN variant replacement requested by DCC)", "Lost or Stolen Hub"]),
            new("UserRefDateTime", false, Kind: "dateTime"), new("UserRefID", false, MaxLength: 25), new("IncidentReference", false, MaxLength: 15),
            new("AdditionalInformation", false, MaxLength: 200),
        ],
    };

    /// <summary>E41 naming the field when an 8.14.x body lacks a required field or holds one malformed.</summary>
    private void CheckCommsHubFields(XElement body, string srv)
    {
        foreach (var field in CommsHubFields[srv])
        {
            if (Single(body, field.Name) is not { } element)
            {
                if (field.Required)
                {
                    throw Invalid($"{srv} needs {field.Name}");
                }
                continue;
            }
            var value = element.Value.Trim();
            var fault = field switch
            {
                { Values: { } values } when !values.Contains(value, StringComparer.Ordinal) => $"is not one of {string.Join(", ", values.Select(v => $"'{v}'"))}",
                { Kind: "boolean" } when value is not ("true" or "false" or "1" or "0") => "is not true or false",
                { Kind: "dateTime" } when !DuisDateTime.TryParse(value, out _) => "is not a date and time in UTC or with an offset",
                { Kind: "EUI-64" } when !Eui64.TryParse(value, out _) => "is not an EUI-64",
                { MaxLength: > 0 } when FreeText.FaultOf(value, field.Name, field.MaxLength) is { } text => text,
                _ => null,
            };
            if (fault is not null)
            {
                throw Invalid(fault.StartsWith(field.Name, StringComparison.Ordinal) ? fault : $"{field.Name} '{Excerpt.Of(value)}' {fault}");
            }
        }
    }

    /// <summary>
    /// A meter point has one meter in service: E41 when the change puts the meter in service at an MPAN (import,
    /// secondary import or export) or MPRN it did not serve in service before, and another meter in service serves it (a
    /// meter decommissioned or withdrawn keeps its MPAN or MPRN without blocking). The log's transaction checks the same again.
    /// </summary>
    private async Task RefuseSecondMeterAsync(Device found, Device becomes, CancellationToken cancellationToken)
    {
        if (!becomes.IsInService)
        {
            return;
        }
        var servedBefore = found.IsInService ? found.ServedMeterPoints().Select(m => m.MeterPoint).ToHashSet() : [];
        var newly = becomes.ServedMeterPoints().Where(m => !servedBefore.Contains(m.MeterPoint)).ToList();
        if (newly.Count == 0)
        {
            return;
        }
        var serving = await inventory.MetersInServiceAsync([.. newly.Select(m => m.MeterPoint)], except: becomes.Id, cancellationToken: cancellationToken);
        foreach (var (property, meterPoint) in newly)
        {
            if (serving.TryGetValue(meterPoint, out var other))
            {
                var element = property switch
                {
                    nameof(Device.Mpan) or nameof(Device.Mprn) => "ImportMPxN",
                    nameof(Device.SecondaryImportMpan) => "SecondaryImportMPAN",
                    _ => "ExportMPAN",
                };
                throw Invalid($"{element} {meterPoint} is served already by {other.Type} {other.Id} ({other.Status}): a meter point has one meter in service");
            }
        }
    }

    private static string? AnyType(Device device) => null;

    private void CheckStatus(DuisRequest request, Device device)
    {
        var statuses = matrix.StatusesFor(request.Variant.Id);
        if (!statuses.Contains(device.Status))
        {
            throw new RefusedException(ResponseCode.DeviceStatusIncompatible.Code, $"device {device.Id} is {device.Status}; {request.Variant.Id} needs it {statuses}");
        }
    }

    /// <summary>The answer, its outcome for the log, and what the request changes once logged (null: nothing).</summary>
    private (DuisResponse, string, InventoryWrite?) Respond(DuisRequest request, string code, string outcome, InventoryWrite? changes = null) =>
        (DuisResponse.For(request, code, clock.GetCurrentInstant()), outcome, changes);

    private string? Text(XElement parent, string name) =>
        Single(parent, name)?.Value.Trim() is { Length: > 0 } text ? text : null;

    /// <summary>The element <paramref name="name"/> of <paramref name="parent"/>, which these bodies hold at most once: a second would be ignored, so it is refused.</summary>
    private XElement? Single(XElement parent, string name)
    {
        XElement? found = null;
        foreach (var element in parent.Elements(Sr + name))
        {
            if (found is not null)
            {
                throw Invalid($"{parent.Name.LocalName} holds {name} more than once");
            }
            found = element;
        }
        return found;
    }

    private string? Bounded(XElement parent, string name, int maxLength) =>
        Text(parent, name) is not { } text ? null : FreeText.FaultOf(text, name, maxLength) is { } fault ? throw Invalid(fault) : text;

    private Eui64 RequiredDevice(XElement parent, string name) =>
        OptionalDevice(parent, name) ?? throw Invalid($"{name} is missing");

    private Eui64? OptionalDevice(XElement parent, string name) =>
        Text(parent, name) is not { } text ? null : Eui64.TryParse(text, out var id) ? id : throw Invalid($"{name} '{text}' is not an EUI-64");

    private RefusedException Invalid(string reason) => new(codes.InvalidRequest, reason);

    private static RefusedException Unknown(Eui64 id) => new(ResponseCode.DeviceDoesNotExist.Code, $"device {id} is not in the inventory");

    /// <summary>A request this handler refuses, with the DUIS code that says why.</summary>
    private sealed class RefusedException(string code, string reason) : Exception(reason)
    {
        public string Code { get; } = code;
    }
}

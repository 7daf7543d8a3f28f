import PluginAPI

extension PSTNGatewayProfiles {
    /// A gateway that dials what it is given: national format for numbers in the country, the international prefix
    /// for the rest, and the same for the caller id it presents. A gateway that needs a line-seizure digit gets it
    /// from the numbering context's `access_code` (prefixed unless `called_access_code: false`).
    static let generic: VendorProfile = {
        var r = ProfileRules(
            name: "generic", summary: "national/international dialling formats, optional access code")
        r.calledFormat = .national
        r.callingFormat = .national
        return VendorProfile(rules: r)
    }()
}

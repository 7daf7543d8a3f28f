import Testing

@testable import Engine
@testable import Routing
@testable import SIPCore

/// The engine starts listeners only through the registry: a transport the configuration can name but the registry
/// cannot start would be refused at `patchbay run`, after `check` passed.
@Suite struct TransportRegistryTests {
    @Test func everyConfigurableTransportHasAStarter() {
        #expect(Set(TransportRegistry.starters.keys) == Set(PatchbayConfiguration.Transport.allCases))
    }
}

import Foundation
import Synchronization

/// Ctrl-C handling for long runs: the first SIGINT sets a flag the work loops poll (so they stop
/// between steps and write nothing partial); a second one exits at once.
enum Interrupt {
    private static let flag = Atomic<Bool>(false)

    static var requested: Bool { flag.load(ordering: .relaxed) }

    static func install() {
        signal(SIGINT) { _ in
            if Interrupt.flag.load(ordering: .relaxed) { _exit(130) }
            Interrupt.flag.store(true, ordering: .relaxed)
        }
    }
}

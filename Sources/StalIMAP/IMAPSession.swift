import StalCore
import StalDirectory
import StalIMAPCore
import StalMIME
import StalMailStore

/// How a command changed the session's RFC state, for the state machine.
enum IMAPModeChange: Sendable {
    case unchanged
    case selected(readOnly: Bool)
    case deselected
}

/// Performs commands against the mail store for one connection. The handler runs one
/// command at a time; responses leave through `emit` in order, in chunks.
actor IMAPSession {
    private struct Selection {
        var mailbox: MailboxID
        var view: MailboxView
        /// The mailbox modseq the view last synchronised with; unchanged means nothing to report.
        var syncedModSeq: ModSeq
    }

    private let services: IMAPServices
    private let configuration: IMAPServerConfiguration
    private let remote: String
    /// Writes to the connection; false once it is closed.
    private let emit: @Sendable ([UInt8]) async -> Bool
    private let encoder = IMAPResponseEncoder()
    private var principal: Principal?
    private var selection: Selection?
    private var output: [UInt8] = []
    private var idleTask: Task<Void, Never>?
    private var connectionClosed = false

    init(services: IMAPServices, configuration: IMAPServerConfiguration, remote: String,
         emit: @escaping @Sendable ([UInt8]) async -> Bool) {
        self.services = services
        self.configuration = configuration
        self.remote = remote
        self.emit = emit
    }

    private var store: MailStore { services.mailStore }

    // MARK: output

    private func send(_ response: IMAPResponse) {
        encoder.encode(response, into: &output)
    }

    private func send(untagged responses: [UntaggedResponse]) {
        for r in responses { send(.untagged(r)) }
    }

    /// Hands the pending output to the channel and waits until it is written, so a slow
    /// reader holds back a long FETCH instead of growing the outbound buffer.
    private func flush() async {
        guard !output.isEmpty else { return }
        let bytes = output
        output = []
        if !(await emit(bytes)) { connectionClosed = true }
    }

    /// Called inside long loops; stops the command once the client has gone away.
    private func flushIfFull() async throws {
        if output.count >= configuration.outputChunkOctets { await flush() }
        if connectionClosed { throw StalError(.unavailable, "connection closed") }
    }

    // MARK: authentication

    func authenticate(username: String, password: String) async -> IMAPSessionStateMachine.AuthenticationOutcome {
        switch await services.directory.authenticate(username: username, password: password, remote: remote) {
        case .success(let principal):
            self.principal = principal
            return .succeeded
        case .failure:
            return .failed
        case .rateLimited:
            return .rateLimited
        }
    }

    // MARK: IDLE

    /// Reports changes as they are committed until `finishIdle`. IDLE is a sync point,
    /// so expunges are reported too.
    /// Subscribes before sending the continuation, so a change committed right after the
    /// client sees `+ idling` is never missed.
    func startIdle(_ responses: [IMAPResponse]) async {
        guard let account = principal?.account else { return }
        let notifications = store.changeNotifications(account)
        idleTask = Task { [weak self] in
            for await _ in notifications {
                guard let self, !Task.isCancelled else { return }
                await self.idleChanged()
            }
        }
        for r in responses { send(r) }
        try? synchronize(allowExpunge: true)
        await flush()
    }

    private func idleChanged() async {
        guard idleTask != nil else { return }
        try? synchronize(allowExpunge: true)
        await flush()
    }

    func finishIdle(_ responses: [IMAPResponse]) async {
        idleTask?.cancel()
        idleTask = nil
        try? synchronize(allowExpunge: true)
        for r in responses { send(r) }
        await flush()
    }

    func close() {
        idleTask?.cancel()
        idleTask = nil
    }

    // MARK: commands

    func execute(_ tagged: TaggedCommand) async -> IMAPModeChange {
        var change = IMAPModeChange.unchanged
        do {
            change = try await run(tagged)
        } catch let error as StalError {
            send(IMAPErrorMapping.response(tag: tagged.tag, error))
        } catch {
            send(IMAPErrorMapping.response(tag: tagged.tag, StalError(.internal, "\(error)")))
        }
        await flush()
        return change
    }

    private func requireAccount() throws -> AccountID {
        guard let account = principal?.account else { throw StalError(.permissionDenied, "not authenticated") }
        return account
    }

    private func requireSelection() throws -> Selection {
        guard let selection else { throw StalError(.invalidArgument, "no mailbox selected") }
        return selection
    }

    private func ok(_ tag: String, _ code: ResponseCode? = nil, _ text: String = "completed") {
        send(.tagged(tag: tag, .ok, code, text))
    }

    private func no(_ tag: String, _ code: ResponseCode?, _ text: String) {
        send(.tagged(tag: tag, .no, code, text))
    }

    private func run(_ tagged: TaggedCommand) async throws -> IMAPModeChange {
        let tag = tagged.tag
        let account = try requireAccount()
        switch tagged.command {
        case .noop, .check:
            try synchronize(allowExpunge: true)
            ok(tag)
        case .list(let reference, let patterns, let options):
            try list(account, reference: reference, patterns: patterns, options: options)
            try synchronize(allowExpunge: true)
            ok(tag)
        case .lsub(let reference, let pattern):
            try lsub(account, reference: reference, pattern: pattern)
            ok(tag)
        case .create(let name):
            var trimmed = name
            while trimmed.hasSuffix("/") { trimmed.removeLast() }
            let existing = trimmed.isEmpty ? nil : try store.mailbox(account, named: trimmed)
            if trimmed.isEmpty || trimmed == "INBOX" || existing != nil {
                no(tag, .alreadyExists, "Mailbox already exists")
            } else {
                _ = try await store.createMailbox(account, name: trimmed)
                ok(tag)
            }
        case .delete(let name):
            guard name != "INBOX" else {
                no(tag, .cannot, "INBOX cannot be deleted")
                return .unchanged
            }
            guard let box = try store.mailbox(account, named: name) else {
                no(tag, .nonexistent, "No such mailbox")
                return .unchanged
            }
            try await store.deleteMailbox(account, id: box.id)
            ok(tag)
        case .rename(let from, let to):
            guard let box = try store.mailbox(account, named: from) else {
                no(tag, .nonexistent, "No such mailbox")
                return .unchanged
            }
            let target = try store.mailbox(account, named: to)
            if to == "INBOX" || target != nil {
                no(tag, .alreadyExists, "Target mailbox already exists")
                return .unchanged
            }
            _ = try await store.renameMailbox(account, id: box.id, newName: to)
            ok(tag)
        case .subscribe(let name):
            try await store.setSubscribed(account, name: name, true)
            ok(tag)
        case .unsubscribe(let name):
            try await store.setSubscribed(account, name: name, false)
            ok(tag)
        case .select(let name, let readOnly):
            return try select(account, tag: tag, name: name, readOnly: readOnly)
        case .status(let name, let attributes):
            guard let box = try store.mailbox(account, named: name) else {
                no(tag, .nonexistent, "No such mailbox")
                return .unchanged
            }
            send(.untagged(.status(mailbox: box.name, statusItems(box, attributes))))
            try synchronize(allowExpunge: true)
            ok(tag)
        case .append(let name, let flags, let internalDate, let message):
            guard let box = try store.mailbox(account, named: name) else {
                no(tag, .tryCreate, "No such mailbox")
                return .unchanged
            }
            guard !message.isEmpty else {
                no(tag, .cannot, "Empty message")
                return .unchanged
            }
            let result = try await store.append(account, mailbox: box.id, bytes: message,
                                                keywords: IMAPFlags.keywords(for: flags), receivedAt: internalDate)
            try synchronize(allowExpunge: true)
            ok(tag, .appendUID(uidValidity: result.uidValidity, uid: result.uid), "APPEND completed")
        case .close:
            let s = try requireSelection()
            selection = nil
            if !s.view.readOnly { try await store.expunge(account, mailbox: s.mailbox, uids: nil) }
            ok(tag)
            return .deselected
        case .unselect:
            selection = nil
            ok(tag)
            return .deselected
        case .expunge:
            let s = try requireSelection()
            try await store.expunge(account, mailbox: s.mailbox, uids: nil)
            try synchronize(allowExpunge: true)
            ok(tag)
        case .uidExpunge(let set):
            let s = try requireSelection()
            let uids = s.view.resolve(set, uid: true).map(\.uid)
            if !uids.isEmpty { try await store.expunge(account, mailbox: s.mailbox, uids: uids) }
            try synchronize(allowExpunge: true)
            ok(tag)
        case .search(_, let key, let uid):
            try await search(account, key: key, uid: uid)
            try synchronize(allowExpunge: uid)
            ok(tag)
        case .fetch(let set, let attributes, let uid):
            try await fetch(account, set: set, attributes: attributes, uid: uid)
            try synchronize(allowExpunge: uid)
            ok(tag)
        case .store(let set, let operation, let uid):
            try await storeFlags(account, set: set, operation: operation, uid: uid)
            try synchronize(allowExpunge: uid)
            ok(tag)
        case .copy(let set, let mailbox, let uid), .move(let set, let mailbox, let uid):
            var isMove = false
            if case .move = tagged.command { isMove = true }
            try await copy(account, tag: tag, set: set, mailbox: mailbox, uid: uid, move: isMove)
        case .capability, .logout, .startTLS, .login, .authenticate, .id, .enable, .namespace, .idle:
            // The state machine answers these itself; reaching here is a driver bug.
            no(tag, .serverBug, "Unexpected command")
        }
        return .unchanged
    }

    // MARK: mailbox listing

    private func statusItems(_ box: MailboxInfo, _ attributes: [StatusAttribute]) -> [StatusItem] {
        attributes.map { a in
            switch a {
            case .messages: return StatusItem(a, UInt32(clamping: box.totalEmails))
            case .recent: return StatusItem(a, 0)
            case .uidNext: return StatusItem(a, box.uidNext)
            case .uidValidity: return StatusItem(a, box.uidValidity)
            case .unseen: return StatusItem(a, UInt32(clamping: box.unseenEmails))
            }
        }
    }

    private func list(_ account: AccountID, reference: String, patterns: [String], options: ListOptions) throws {
        if patterns == [""] {
            send(.untagged(.list(ListEntry(attributes: ["\\Noselect"], name: ""))))
            return
        }
        let boxes = try store.mailboxes(account).sorted { ($0.name == "INBOX" ? "" : $0.name) < ($1.name == "INBOX" ? "" : $1.name) }
        let names = Set(boxes.map(\.name))
        let subscribed = Set(try store.subscriptions(account))
        let matchers = patterns.map { MailboxPattern(reference: reference, pattern: $0) }
        for box in boxes where matchers.contains(where: { $0.matches(box.name) }) {
            if options.subscribedOnly && !subscribed.contains(box.name) { continue }
            if options.specialUseOnly && box.role?.imapAttribute == nil { continue }
            let prefix = box.name + "/"
            var attributes = [names.contains { $0.hasPrefix(prefix) } ? "\\HasChildren" : "\\HasNoChildren"]
            if let special = box.role?.imapAttribute { attributes.append(special) }
            if options.returnSubscribed && subscribed.contains(box.name) { attributes.append("\\Subscribed") }
            send(.untagged(.list(ListEntry(attributes: attributes, name: box.name))))
            if !options.returnStatus.isEmpty {
                send(.untagged(.status(mailbox: box.name, statusItems(box, options.returnStatus))))
            }
        }
        if options.subscribedOnly {
            for name in subscribed.sorted() where !names.contains(name) && matchers.contains(where: { $0.matches(name) }) {
                send(.untagged(.list(ListEntry(attributes: ["\\Subscribed", "\\NonExistent"], name: name))))
            }
        }
    }

    private func lsub(_ account: AccountID, reference: String, pattern: String) throws {
        let names = Set(try store.mailboxes(account).map(\.name))
        let matcher = MailboxPattern(reference: reference, pattern: pattern)
        for name in try store.subscriptions(account).sorted() where matcher.matches(name) {
            send(.untagged(.lsub(ListEntry(attributes: names.contains(name) ? [] : ["\\Noselect"], name: name))))
        }
    }

    // MARK: selected state

    private func select(_ account: AccountID, tag: String, name: String, readOnly: Bool) throws -> IMAPModeChange {
        selection = nil
        guard let box = try store.mailbox(account, named: name) else {
            no(tag, .nonexistent, "No such mailbox")
            return .deselected
        }
        let messages = try store.messages(account, mailbox: box.id)
        let view = MailboxView(uidValidity: box.uidValidity,
                               messages: messages.map { MessageMetadata(uid: $0.uid, keywords: $0.keywords) }, readOnly: readOnly)
        selection = Selection(mailbox: box.id, view: view, syncedModSeq: box.highestModSeq)
        send(.untagged(.flags(IMAPFlags.defined)))
        send(.untagged(.condition(.ok, .permanentFlags(readOnly ? [] : IMAPFlags.permanent), "Flags permitted")))
        send(.untagged(.exists(view.count)))
        send(.untagged(.recent(0)))
        if let firstUnseen = messages.firstIndex(where: { !$0.keywords.contains(.seen) }) {
            send(.untagged(.condition(.ok, .unseen(UInt32(firstUnseen + 1)), "First unseen")))
        }
        send(.untagged(.condition(.ok, .uidValidity(box.uidValidity), "UIDs valid")))
        send(.untagged(.condition(.ok, .uidNext(box.uidNext), "Predicted next UID")))
        ok(tag, readOnly ? .readOnly : .readWrite, readOnly ? "EXAMINE completed" : "SELECT completed")
        return .selected(readOnly: readOnly)
    }

    /// Brings the selected view up to date and sends what changed. Called only at sync
    /// points: after commands, during IDLE, never in the middle of a command's output.
    private func synchronize(allowExpunge: Bool) throws {
        guard var s = selection, let account = principal?.account else { return }
        guard let box = try store.mailbox(account, id: s.mailbox) else { return }
        if box.highestModSeq == s.syncedModSeq && (!allowExpunge || s.view.pendingExpunges.isEmpty) { return }
        let messages = try store.messages(account, mailbox: s.mailbox)
        let responses = s.view.synchronize(with: messages.map { MessageMetadata(uid: $0.uid, keywords: $0.keywords) },
                                           allowExpunge: allowExpunge)
        s.syncedModSeq = box.highestModSeq
        selection = s
        send(untagged: responses)
    }

    private func summaries(_ account: AccountID, _ mailbox: MailboxID) throws -> [UInt32: MessageSummary] {
        var byUID: [UInt32: MessageSummary] = [:]
        for m in try store.messages(account, mailbox: mailbox) { byUID[m.uid] = m }
        return byUID
    }

    private func parsed(_ account: AccountID, _ summary: MessageSummary) async throws -> MIMEMessage {
        MIMEMessage.parse(try await store.readBlob(account: account, summary.blobID), limits: MIMELimits(configuration.limits))
    }

    private func search(_ account: AccountID, key: SearchKey, uid: Bool) async throws {
        let s = try requireSelection()
        let byUID = try summaries(account, s.mailbox)
        let needsBytes = key.needsHeaders || key.needsBody
        let context = SearchEvaluator.Context(largestSequenceNumber: s.view.count, largestUID: s.view.uids.last ?? 0)
        var results: [UInt32] = []
        for (index, messageUID) in s.view.uids.enumerated() {
            guard let summary = byUID[messageUID] else { continue }
            let message = IMAPMessage(uid: messageUID, sequenceNumber: UInt32(index + 1), keywords: summary.keywords,
                                      internalDate: summary.receivedAt, size: summary.size,
                                      mime: needsBytes ? try await parsed(account, summary) : nil)
            if SearchEvaluator.matches(key, message, context: context) {
                results.append(uid ? messageUID : UInt32(index + 1))
            }
        }
        send(.untagged(.search(results)))
    }

    private func fetch(_ account: AccountID, set: SequenceSet, attributes: [FetchAttribute], uid: Bool) async throws {
        var s = try requireSelection()
        let targets = s.view.resolve(set, uid: uid)
        var byUID = try summaries(account, s.mailbox)
        var seenChanged: Set<UInt32> = []
        if !s.view.readOnly && attributes.contains(where: \.setsSeen) {
            let unseen = targets.compactMap { byUID[$0.uid] }.filter { !$0.keywords.contains(.seen) }.map(\.uid)
            if !unseen.isEmpty {
                let result = try await store.storeKeywords(account, mailbox: s.mailbox, uids: unseen, operation: .add, keywords: [.seen])
                for changed in result.changed {
                    byUID[changed.uid] = changed
                    seenChanged.insert(changed.uid)
                }
            }
        }
        let needsBytes = attributes.contains(where: \.needsMessageBytes)
        let needsStructure = attributes.contains(where: \.needsStructure)
        let reportsFlags = attributes.contains(.flags)
        let cache = services.structureCache
        for target in targets {
            guard let summary = byUID[target.uid] else { continue }
            var mime: MIMEMessage?
            var structure: IMAPMessageStructure?
            if needsStructure { structure = cache.structure(for: summary.blobID) }
            if needsBytes || (needsStructure && structure == nil) {
                let parsedMessage = try await parsed(account, summary)
                mime = parsedMessage
                if needsStructure && structure == nil {
                    let rendered = IMAPMessageStructure(parsedMessage)
                    cache.insert(rendered, for: summary.blobID)
                    structure = rendered
                }
            }
            let message = IMAPMessage(uid: target.uid, sequenceNumber: target.sequenceNumber, keywords: summary.keywords,
                                      internalDate: summary.receivedAt, size: summary.size, mime: mime, structure: structure)
            let items = FetchAssembler.items(attributes, metadata: message.metadata, message: message, includeUID: uid,
                                             seenChanged: seenChanged.contains(target.uid))
            send(.untagged(.fetch(target.sequenceNumber, items)))
            try await flushIfFull()
            if reportsFlags || seenChanged.contains(target.uid) { s.view.recordKeywords(summary.keywords, uid: target.uid) }
        }
        selection = s
    }

    private func storeFlags(_ account: AccountID, set: SequenceSet, operation: StoreOperation, uid: Bool) async throws {
        var s = try requireSelection()
        let targets = s.view.resolve(set, uid: uid).filter { !s.view.isExpunged($0.uid) }
        guard !targets.isEmpty else { return }
        let mode: KeywordOperation
        switch operation.mode {
        case .add: mode = .add
        case .remove: mode = .remove
        case .replace: mode = .replace
        }
        let result = try await store.storeKeywords(account, mailbox: s.mailbox, uids: targets.map(\.uid), operation: mode,
                                                   keywords: IMAPFlags.keywords(for: operation.flags))
        var changed: [UInt32: Set<Keyword>] = [:]
        for c in result.changed { changed[c.uid] = c.keywords }
        for target in targets {
            guard let keywords = changed[target.uid] ?? s.view.keywords(of: target.uid) else { continue }
            s.view.recordKeywords(keywords, uid: target.uid)
            if !operation.silent {
                let flags = FetchItem.flags(IMAPFlags.flags(for: keywords))
                send(.untagged(.fetch(target.sequenceNumber, uid ? [.uid(target.uid), flags] : [flags])))
                try await flushIfFull()
            }
        }
        selection = s
    }

    private func copy(_ account: AccountID, tag: String, set: SequenceSet, mailbox: String, uid: Bool, move: Bool) async throws {
        let s = try requireSelection()
        guard let destination = try store.mailbox(account, named: mailbox) else {
            no(tag, .tryCreate, "No such mailbox")
            return
        }
        let uids = s.view.resolve(set, uid: uid).map(\.uid).filter { !s.view.isExpunged($0) }
        guard !uids.isEmpty else {
            try synchronize(allowExpunge: true)
            ok(tag, nil, move ? "No messages moved" : "No messages copied")
            return
        }
        let result = move
            ? try await store.move(account, from: s.mailbox, uids: uids, to: destination.id)
            : try await store.copy(account, from: s.mailbox, uids: uids, to: destination.id)
        let code = ResponseCode.copyUID(uidValidity: result.uidValidity, source: result.mapping.map(\.source),
                                        destination: result.mapping.map(\.destination))
        if move {
            // RFC 6851 §4.3: COPYUID goes in an untagged OK before the EXPUNGEs.
            send(.untagged(.condition(.ok, code, "Moved")))
            try synchronize(allowExpunge: true)
            ok(tag, nil, "MOVE completed")
        } else {
            try synchronize(allowExpunge: true)
            ok(tag, code, "COPY completed")
        }
    }
}

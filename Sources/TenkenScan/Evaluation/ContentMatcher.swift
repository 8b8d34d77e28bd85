import TenkenBase

/// Finds software of the forbidden categories by what it is rather than what the catalog calls
/// it: packages that depend on an engine or carry the category's Debian tag, and programs that
/// link an engine or carry a protocol's signatures. What is named in the catalog is left to
/// `SoftwareMatcher`; an engine's own packages (libraries) are not software by themselves.
enum ContentMatcher {
    static func evidence(
        for categories: [String], catalog: SoftwareCatalog, named entries: [CatalogEntry], in index: FactIndex
    ) -> [Evidence] {
        let engines = catalog.engines(in: categories)
        let tags = catalog.tags(in: categories)
        var found = packageEvidence(engines: engines, tags: tags, named: entries, facts: index.facts)
        found += windowsEvidence(named: entries, facts: index.facts)
        found += appImageEvidence(named: entries, facts: index.facts)
        if let rules = index.facts.contentRules {
            found += programEvidence(rules, categories: Set(categories), facts: index.facts)
        }
        return found
    }

    private static func packageEvidence(
        engines: [CatalogEngine], tags: [CatalogTag], named entries: [CatalogEntry], facts: HostFacts
    ) -> [Evidence] {
        guard !engines.isEmpty || !tags.isEmpty else { return [] }
        let namedPackages = Set(entries.flatMap(\.deb))
        var engineOf: [String: CatalogEngine] = [:]
        for engine in engines {
            for package in engine.deb where engineOf[package] == nil { engineOf[package] = engine }
        }
        let tagged = Dictionary(tags.map { ($0.tag, $0) }, uniquingKeysWith: { first, _ in first })
        var found: [Evidence] = []
        for package in facts.debianPackages where package.isPresent {
            guard !namedPackages.contains(package.name), engineOf[package.name] == nil else { continue }
            for dependency in Set(package.dependencies).sorted() {
                guard let engine = engineOf[dependency] else { continue }
                found.append(
                    Evidence(
                        source: .dpkg, confidence: .strong, software: engine.name, item: package.name,
                        version: package.version, detail: package.state,
                        reason: Localized(
                            ja: "P2P エンジン \(dependency) に依存しています", en: "depends on the P2P engine \(dependency)"),
                        dualUse: engine.purpose == .dualUse || engine.dualUse.contains(package.name)))
            }
            for tag in (facts.apt?.packageTags[package.name] ?? []).sorted() {
                guard let marked = tagged[tag] else { continue }
                found.append(
                    Evidence(
                        source: .dpkg, confidence: .strong, software: tag, item: package.name,
                        version: package.version, detail: package.state,
                        reason: Localized(
                            ja: "Debian のタグ \(tag) が付いています", en: "Debian tags it \(tag)"),
                        dualUse: marked.purpose == .dualUse || marked.dualUse.contains(package.name)))
            }
        }
        return found
    }

    /// Windows programs whose version resource names a catalog application, whatever the file is
    /// called now (a renamed Winny.exe still says OriginalFilename Winny.exe, ProductName Winny).
    private static func windowsEvidence(named entries: [CatalogEntry], facts: HostFacts) -> [Evidence] {
        var found: [Evidence] = []
        for program in facts.inspectedPrograms {
            guard let strings = program.windows?.strings else { continue }
            let fileName = program.file.name.asciiLowercased
            for entry in entries where !entry.wine.isEmpty {
                let names = Set(entry.wine.map { $0.lowercased() })
                // Under its own name the catalog already finds it.
                guard !names.contains(fileName) else { continue }
                let stems = Set(names.map { $0.hasSuffix(".exe") ? String($0.dropLast(4)) : $0 })
                var said: (key: String, value: String)?
                for key in ["OriginalFilename", "InternalName"] {
                    guard said == nil, let value = strings[key] else { continue }
                    let lowered = value.lowercased()
                    if names.contains(lowered) || names.contains(lowered + ".exe") { said = (key, value) }
                }
                if said == nil, let product = strings["ProductName"],
                    stems.contains(product.lowercased()) || product.lowercased() == entry.name.lowercased()
                {
                    said = ("ProductName", product)
                }
                guard let said else { continue }
                let company = strings["CompanyName"].map { ", CompanyName \($0)" } ?? ""
                found.append(
                    Evidence(
                        source: program.file.location == .winePrefix ? .wine : .file, software: entry.name,
                        item: program.file.path,
                        reason: Localized(
                            ja: "バージョン情報の \(said.key) が \(said.value) です\(company)",
                            en: "its version resource says \(said.key) \(said.value)\(company)")))
            }
        }
        return found
    }

    /// AppImages whose desktop entry or programs are a catalog application's, whatever the
    /// AppImage file is called.
    private static func appImageEvidence(named entries: [CatalogEntry], facts: HostFacts) -> [Evidence] {
        var found: [Evidence] = []
        for program in facts.inspectedPrograms {
            guard let contents = program.appImage else { continue }
            for entry in entries {
                let executables = Set(entry.executables.map { $0.lowercased() })
                let reason: Localized
                if let name = contents.names.first(where: { $0.lowercased() == entry.name.lowercased() }) {
                    reason = Localized(ja: "デスクトップ項目の名前が \(name) です", en: "its desktop entry is named \(name)")
                } else if let command = contents.commands.first(where: { executables.contains($0.lowercased()) }) {
                    reason = Localized(ja: "デスクトップ項目が \(command) を実行します", en: "its desktop entry runs \(command)")
                } else if let inner = contents.programs.first(where: { executables.contains($0.lowercased()) }) {
                    reason = Localized(ja: "プログラム \(inner) を含んでいます", en: "it contains the program \(inner)")
                } else {
                    continue
                }
                found.append(Evidence(source: .file, software: entry.name, item: program.file.path, reason: reason))
            }
        }
        return found
    }

    /// `rules` are those the programs were inspected with (every forbidden category's); only
    /// marks of `categories` count here.
    private static func programEvidence(
        _ rules: ContentRules, categories: Set<String>, facts: HostFacts
    ) -> [Evidence] {
        var found: [Evidence] = []
        for program in facts.inspectedPrograms {
            let source: Evidence.Source = program.file.location == .winePrefix ? .wine : .file
            var replaced: Localized?
            if case .replaced(let package) = program.ownership {
                replaced = Localized(
                    ja: " (パッケージ \(package) のファイルが別の内容に置き換えられています)",
                    en: " (it replaced a file of the package \(package))")
            } else if case .unverifiable(let package) = program.ownership {
                replaced = Localized(
                    ja: " (パッケージ \(package) のファイルですが、照合する md5sum がありません)",
                    en: " (a file of the package \(package) with no md5sum to check it against)")
            } else if let members = program.appImage?.members, !members.isEmpty {
                let listed = members.joined(separator: ", ")
                replaced = Localized(ja: " (AppImage 内の \(listed))", en: " (inside the AppImage: \(listed))")
            }
            for (library, engineIndex) in program.linked where engineIndex < rules.engines.count {
                let engine = rules.engines[engineIndex]
                guard categories.contains(engine.category) else { continue }
                found.append(
                    Evidence(
                        source: source, confidence: .strong, software: engine.name, item: program.file.path,
                        reason: Localized(
                            ja: "\(library) をリンクしています\(replaced?.ja ?? "")",
                            en: "links \(library)\(replaced?.en ?? "")"),
                        dualUse: engine.purpose == .dualUse))
            }
            for (path, engineIndex) in program.searchPaths where engineIndex < rules.engines.count {
                let engine = rules.engines[engineIndex]
                guard categories.contains(engine.category),
                    !program.linked.contains(where: { $0.engine == engineIndex })
                else { continue }
                found.append(
                    Evidence(
                        source: source, confidence: .weak, software: engine.name, item: program.file.path,
                        reason: Localized(
                            ja: "ライブラリの検索パス \(path) がエンジンの名前です\(replaced?.ja ?? "")",
                            en: "its library search path \(path) names the engine\(replaced?.en ?? "")"),
                        dualUse: engine.purpose == .dualUse))
            }
            let byProtocol = Dictionary(grouping: program.signatures, by: \.protocolIndex)
            for (protocolIndex, signatures) in byProtocol.sorted(by: { $0.key < $1.key })
            where protocolIndex < rules.protocols.count {
                let item = rules.protocols[protocolIndex]
                guard categories.contains(item.category) else { continue }
                let reasons = signatures.map(\.signature).sorted().compactMap {
                    $0 < item.signatures.count ? item.signatures[$0].reason : nil
                }
                found.append(
                    Evidence(
                        source: source, confidence: reasons.count >= 2 ? .strong : .weak, software: item.name,
                        item: program.file.path,
                        reason: Localized(
                            ja: reasons.map(\.ja).joined(separator: "、") + "を含んでいます\(replaced?.ja ?? "")",
                            en: "contains " + reasons.map(\.en).joined(separator: ", ") + (replaced?.en ?? "")),
                        dualUse: item.purpose == .dualUse))
            }
        }
        return found
    }
}

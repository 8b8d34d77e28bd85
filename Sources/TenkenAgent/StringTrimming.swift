extension String {
    /// Without any number of trailing `character`s ("https://host:8443//" → "https://host:8443").
    func trimmingSuffix(_ character: Character) -> Substring {
        var text = self[...]
        while text.last == character { text = text.dropLast() }
        return text
    }
}

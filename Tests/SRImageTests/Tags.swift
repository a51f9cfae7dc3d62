import Testing

extension Tag {
    @Tag static var golden: Self
    @Tag static var codec: Self
    @Tag static var badInput: Self
    @Tag static var property: Self
}

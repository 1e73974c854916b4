package ui

import (
	"os"
	"sync"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

// Releases a town hands down to its villages (docs/operations.md,
// "Upgrades"): the release file it holds for an architecture, signed by the
// county and checked again by each village, so it is served to anyone
// who asks; it holds nothing personal.

// ReleaseSource gives the release file held for an architecture (GOARCH)
// and its ETag (naming the binary and the signature); ok false when none
// is held.
type ReleaseSource func(arch string) (path, etag string, ok bool)

var releasesOf sync.Map // *Server → ReleaseSource

// SetReleases tells s where the releases it hands down are.
func SetReleases(s *Server, src ReleaseSource) { releasesOf.Store(s, src) }

func init() {
	registerRoutes(func(s *Server) {
		s.app.Get("/releases/:arch", func(c *fiber.Ctx) error {
			src, _ := releasesOf.Load(s)
			if src == nil {
				return appliance.Errorf(appliance.ENOTFOUND, "本节点不下发升级包")
			}
			path, etag, ok := src.(ReleaseSource)(c.Params("arch"))
			if !ok {
				return appliance.Errorf(appliance.ENOTFOUND, "本节点没有该架构的升级包")
			}
			f, err := os.Open(path)
			if err != nil {
				return appliance.Errorf(appliance.ENOTFOUND, "本节点没有该架构的升级包")
			}
			st, err := f.Stat()
			if err != nil {
				f.Close()
				return err
			}
			c.Set(fiber.HeaderETag, `"`+etag+`"`)
			c.Set(fiber.HeaderContentType, "application/octet-stream")
			return c.SendStream(f, int(st.Size())) // fasthttp closes f
		})
	})
}

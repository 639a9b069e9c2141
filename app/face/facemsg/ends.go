package facemsg

import (
	"errors"
	"fmt"
	"image"
	"sync"
	"time"

	"smartpass.city/smartpass/app/face"
	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/face/model"
)

// Open decodes a model file and builds its pipeline (one thread: the
// networks' products run on the caller's goroutine), as the worker and a
// page without one both load it.
func Open(file []byte) (*face.Pipeline, error) {
	f, err := model.Decode(file)
	if err != nil {
		return nil, err
	}
	return face.New(f, embed.Options{})
}

// Server is the worker's end: it runs each request on the pipeline the
// last load request made. Its calls come one at a time.
type Server struct {
	p *face.Pipeline
}

// Handle runs one request and returns its reply's bytes.
func (s *Server) Handle(b []byte) []byte {
	var reply Reply
	req, err := DecodeRequest(b)
	if err == nil {
		reply.ID = req.ID
		err = s.run(req, &reply)
		// A frame may be a card's photo: no copy outlives its use.
		clear(req.Frame.Pix)
	}
	clear(b)
	reply.SetErr(err)
	reply.Kernel = KernelName()
	out, err := Encode(&reply)
	if err != nil { // a result gob cannot carry: say so instead
		out, _ = Encode(&Reply{ID: reply.ID, Failure: err.Error()})
	}
	return out
}

func (s *Server) run(req *Request, reply *Reply) error {
	if req.Kind == KindLoad {
		p, err := Open(req.Model)
		if err != nil {
			return err
		}
		s.p = p
		reply.Loaded = LoadedOf(p)
		return nil
	}
	if s.p == nil {
		return fmt.Errorf("%w: a frame before the model", ErrWorker)
	}
	img, err := req.Frame.Image()
	if err != nil {
		return err
	}
	reply.Result, err = s.p.Process(img, req.Options)
	return err
}

// Poster sends a request's bytes to the worker. It must not keep b after
// it returns: the client clears it (a frame may be a card's photo).
type Poster interface {
	Post(b []byte) error
}

// Client is the page's end: it sends requests through a Poster and waits
// for the replies its owner passes to Deliver. Process and Load may be
// called from any goroutine; Deliver and Fail never block, so a browser
// callback may call them.
type Client struct {
	post Poster
	// Timeouts for a load (the worker compiles its program and decodes
	// the model) and for a frame.
	LoadTimeout, ProcessTimeout time.Duration

	mu      sync.Mutex
	next    uint64
	waiting map[uint64]chan answer
	failed  error
	kernel  string // the last reply's Kernel
}

// NewClient returns a client posting through p.
func NewClient(p Poster) *Client {
	return &Client{post: p, LoadTimeout: 2 * time.Minute, ProcessTimeout: 20 * time.Second, waiting: map[uint64]chan answer{}}
}

// Deliver passes a reply from the worker to the request waiting for it.
func (c *Client) Deliver(b []byte) {
	r, err := DecodeReply(b)
	if err != nil {
		c.Fail(err)
		return
	}
	c.mu.Lock()
	ch, ok := c.waiting[r.ID]
	delete(c.waiting, r.ID)
	if ok {
		c.kernel = r.Kernel
	}
	c.mu.Unlock()
	if !ok {
		c.Fail(fmt.Errorf("%w: a reply to no request (%d): %s", ErrWorker, r.ID, r.Failure))
		return
	}
	ch <- answer{r: r}
}

// answer is what a request waits for: the worker's reply, or the error
// that ended the worker.
type answer struct {
	r   *Reply
	err error
}

// Fail ends every wait, and every later request, with err (wrapping
// ErrWorker): the worker is gone.
func (c *Client) Fail(err error) {
	if !errors.Is(err, ErrWorker) {
		err = fmt.Errorf("%w: %w", ErrWorker, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failed == nil {
		c.failed = err
	}
	for id, ch := range c.waiting {
		delete(c.waiting, id)
		ch <- answer{err: c.failed}
	}
}

// Kernel is which loops ran the worker's networks for its last reply.
func (c *Client) Kernel() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.kernel
}

// Err is the error that ended the worker, or nil.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failed
}

// call sends req and waits for its reply.
func (c *Client) call(req *Request, timeout time.Duration) (*Reply, error) {
	c.mu.Lock()
	if c.failed != nil {
		c.mu.Unlock()
		return nil, c.failed
	}
	c.next++
	req.ID = c.next
	ch := make(chan answer, 1)
	c.waiting[req.ID] = ch
	c.mu.Unlock()
	b, err := Encode(req)
	if err == nil {
		err = c.post.Post(b)
		clear(b) // a frame may be a card's photo; Post copied it
	}
	if err != nil {
		c.Fail(err)
		return nil, c.Err()
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case a := <-ch:
		return a.r, a.err
	case <-t.C:
		c.Fail(fmt.Errorf("no answer in %s", timeout))
		return nil, c.Err()
	}
}

// Load loads the model file in the worker and describes the pipeline.
func (c *Client) Load(file []byte) (Loaded, error) {
	r, err := c.call(&Request{Kind: KindLoad, Model: file}, c.LoadTimeout)
	if err != nil {
		return Loaded{}, err
	}
	if err := r.Err(); err != nil {
		return Loaded{}, err
	}
	return r.Loaded, nil
}

// Process runs the pipeline on img in the worker.
func (c *Client) Process(img *image.RGBA, opt face.Options) (face.Result, error) {
	r, err := c.call(&Request{Kind: KindProcess, Frame: FrameOf(img), Options: opt}, c.ProcessTimeout)
	if err != nil {
		return face.Result{}, err
	}
	return r.Result, r.Err()
}
